//! WebRTC signaling: who may send an offer, an answer or a candidate to whom, and the one place
//! that observes how long a relayed frame took from the sender's socket to the recipient's
//! connection. `sdp` and `candidate` are passed on as the raw JSON text they arrived as.

use std::time::Instant;

use super::{Seat, Session};
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::protocol::{ErrorCode, IcePath, Opaque, Relayed, ServerMessage};

impl Session {
    /// `webrtc_request`: a guest asks the host for an offer.
    pub(super) fn request_offer(&self, seat: Seat) {
        if seat.is_host() {
            return self.send_error(seat, ErrorCode::HostCannotRequestOffer);
        }
        let member = self.roster.get(seat);
        let request = ServerMessage::WebrtcCreateOffer {
            target_user_id: member.user_id.to_string(),
            peer_id: member.user_id.to_string(),
        };
        self.roster.send_host(Outbound::Frame(request.to_text()));
    }

    /// `webrtc_offer`: only the host offers, to a guest it names.
    pub(super) fn offer(&self, seat: Seat, target: &str, sdp: &Opaque, received: Instant) {
        if !seat.is_host() {
            return self.send_error(seat, ErrorCode::NotAllowed);
        }
        if let Some(target) = self.roster.guest_by_user(target) {
            let offer = Relayed::WebrtcOffer {
                sdp,
                from_user_id: self.roster.get(seat).user_id.as_str(),
            };
            self.roster.send(target, Outbound::Frame(offer.to_text()));
        }
        self.relayed(received);
    }

    /// `webrtc_answer`: a guest answers the host.
    pub(super) fn answer(&self, seat: Seat, sdp: &Opaque, received: Instant) {
        if seat.is_host() {
            return self.send_error(seat, ErrorCode::NotAllowed);
        }
        let answer = Relayed::WebrtcAnswer {
            sdp,
            from_user_id: self.roster.get(seat).user_id.as_str(),
        };
        self.roster.send_host(Outbound::Frame(answer.to_text()));
        self.relayed(received);
    }

    /// `webrtc_ice`: the host's candidates go to the guest it names; a guest's go to the host,
    /// whatever it names.
    pub(super) fn ice(
        &self,
        seat: Seat,
        target: Option<&str>,
        candidate: &Opaque,
        received: Instant,
    ) {
        let target = if seat.is_host() {
            target.and_then(|t| self.roster.guest_by_user(t))
        } else {
            Some(Seat::HOST)
        };
        if let Some(target) = target {
            let ice = Relayed::WebrtcIce {
                candidate,
                from_user_id: self.roster.get(seat).user_id.as_str(),
            };
            self.roster.send(target, Outbound::Frame(ice.to_text()));
        }
        self.relayed(received);
    }

    /// `webrtc_connected`: a member reports how its audio connected (or where it failed);
    /// everyone else hears it.
    pub(super) fn connected(
        &mut self,
        seat: Seat,
        connected: bool,
        path: Option<IcePath>,
        failed_stage: Option<String>,
    ) {
        let failed_stage = failed_stage.map(|s| super::cut(&s, 64));
        let member = self.roster.get_mut(seat);
        member.webrtc_connected = connected;
        if connected {
            member.ice_path = path.or(member.ice_path);
            if let Some(path) = path {
                Metrics::inc(&self.core.metrics.ice_outcomes, "path", path.as_str());
            }
        } else if failed_stage.is_some() {
            Metrics::inc(&self.core.metrics.ice_outcomes, "path", "failed");
        }
        let sender = member.user_id.clone();
        let changed = ServerMessage::WebrtcStateChanged {
            user_id: sender.to_string(),
            connected,
            path: if connected { path } else { None },
            failed_stage: if connected { None } else { failed_stage },
        };
        self.broadcast(&changed, |m| m.user_id != sender);
    }

    /// Records how long a relayed frame took from its arrival to being handed on.
    pub(super) fn relayed(&self, received: Instant) {
        self.core
            .metrics
            .relay_seconds
            .observe(received.elapsed().as_secs_f64());
    }
}
