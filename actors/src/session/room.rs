//! The room: chat, reactions, familiars and the host's kick. Chat and reactions carry a `seq`
//! and are kept for replay to members that resume after missing them (see [`super::history`]).

use std::time::Instant;

use actix::prelude::*;
use serde_json::Value;

use super::{Departure, Seat, Session};
use crate::familiar::Familiar;
use crate::outbound::{CloseWhy, Outbound};
use crate::protocol::{ErrorCode, MessageId, ReactionKind, ServerMessage};

impl Session {
    /// `update_familiar`: the member's new avatar, sanitized, for everyone.
    pub(super) fn update_familiar(&mut self, seat: Seat, familiar: Option<Value>) {
        let member = self.roster.get_mut(seat);
        member.familiar = Familiar::sanitize(familiar.as_ref(), &member.username);
        let updated = ServerMessage::UserUpdated {
            user: member.view(),
        };
        self.broadcast(&updated, |_| true);
    }

    /// `chat`: control characters (but newlines) dropped; empty or too long is refused.
    pub(super) fn chat(
        &mut self,
        seat: Seat,
        message: String,
        id: Option<MessageId>,
        received: Instant,
    ) {
        let message: String = message
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .collect();
        if message.trim().is_empty() {
            return self.send_error(seat, ErrorCode::ChatEmpty);
        }
        if message.chars().count() > self.core.limits.max_chat_chars {
            return self.send_error(seat, ErrorCode::ChatTooLong);
        }
        if self.already_sent(seat, id.as_ref()) {
            return;
        }
        let seq = self.next_seq();
        let member = self.roster.get(seat);
        let chat = ServerMessage::Chat {
            user_id: member.user_id.to_string(),
            username: member.username.clone(),
            message,
            seq: Some(seq),
            id: id.as_ref().map(|id| id.as_str().to_string()),
            mac: None,
        };
        self.send_all_and_remember(seat, seq, id, &chat);
        self.relayed(received);
    }

    /// `reaction`: one of the four kinds for everyone; anything else is ignored.
    pub(super) fn react(&mut self, seat: Seat, kind: Option<ReactionKind>, id: Option<MessageId>) {
        let Some(kind) = kind else { return };
        if self.already_sent(seat, id.as_ref()) {
            return;
        }
        let seq = self.next_seq();
        let member = self.roster.get(seat);
        let reaction = ServerMessage::UserReaction {
            user_id: member.user_id.to_string(),
            username: member.username.clone(),
            kind,
            timestamp: chrono::Utc::now().timestamp_millis() as f64,
            seq: Some(seq),
            id: id.as_ref().map(|id| id.as_str().to_string()),
            mac: None,
        };
        self.send_all_and_remember(seat, seq, id, &reaction);
    }

    /// `kick`: the host removes a guest, who is told and closed; the host gets a fresh token that
    /// lists the kicked user, so it stays out after a restart too.
    pub(super) fn kick(&mut self, seat: Seat, target: &str, ctx: &mut Context<Self>) {
        let target = self.roster.guest_by_user(target);
        let (true, Some(target)) = (seat.is_host(), target) else {
            return self.send_error(seat, ErrorCode::CannotKick);
        };
        let kicked = self.roster.get(target);
        let notice = ServerMessage::UserKicked {
            user_id: kicked.user_id.to_string(),
            reason: "host_kicked".into(),
        };
        self.roster.send(target, Outbound::Frame(notice.to_text()));
        self.roster.send(target, Outbound::Close(CloseWhy::KICKED));
        self.kicked.insert(kicked.user_id.clone());
        self.depart(target, Departure::Kicked, ctx);
        if let Some(host) = self.roster.host() {
            let refreshed = ServerMessage::TokenRefreshed {
                resume_token: self.token_for(host),
            };
            self.send_to(Seat::HOST, &refreshed);
        }
    }
}
