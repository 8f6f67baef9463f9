//! The session actor: one per live session. It owns the participants and the playback state and
//! enforces every rule of the contract — who may send what, to whom it goes, in what order.
//!
//! Connections reach it through the registry once (create, join, resume all arrive as one
//! [`Admit`]) and directly after that; it answers them only through each member's
//! `Recipient<Outbound>`, so everything a member receives from the session arrives in the order
//! the session sent it: the welcome always precedes any broadcast about the joiner.
//!
//! The rules live beside what they govern:
//! - [`roster`]: who is in the session, host first (the only file that knows where it sits).
//! - [`membership`]: admit, resume, reconnect, away, depart, end.
//! - [`signaling`]: the WebRTC arms and the relay latency they report.
//! - [`room`]: chat, reactions, familiars, kick.
//! - [`history`]: the chat and reactions kept for replay, re-sent ids, and what members hand
//!   back after a restart.
//! - [`playback`]: playback, sync, heartbeats and the track's metadata.
//! - [`messages`]: what the registry and connections send a session, and what it answers.

mod history;
mod membership;
mod messages;
mod playback;
mod room;
mod roster;
mod signaling;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;

pub use messages::*;
pub use roster::{Roster, Seat, Seated};

use crate::code::SessionCode;
use crate::core::Core;
use crate::familiar::Familiar;
use crate::ids::{ConnId, SessionId, SessionKey, UserId};
use crate::outbound::{Conn, Outbound};
use crate::protocol::{
    ClientMessage, ErrorCode, IcePath, ParticipantView, PlaybackState, PublicSession, QueuedTrack,
    Role, ServerMessage, SessionView, TrackMeta,
};
use crate::throttle::MinuteWindow;
use crate::token::{unix_now, HostClaims, ResumeClaims};

/// One participant.
struct Member {
    user_id: UserId,
    username: String,
    role: Role,
    familiar: Familiar,
    /// RFC 3339; for the host, the session's creation time.
    joined_at: String,
    webrtc_connected: bool,
    ice_path: Option<IcePath>,
    /// `None` while away (socket dropped, within the grace period).
    conn: Option<Conn>,
    /// Declared that it resumes (or did resume): only then is a dropped socket a grace period
    /// rather than a departure. Clients of the contract never resume, so they get none.
    resumable: bool,
    /// The timer that removes an away member when the grace period runs out.
    grace_timer: Option<SpawnHandle>,
    /// This member holds every chat and reaction up to this `seq` from before the relay last
    /// restarted (its `last_seq` when it resumed); `u64::MAX` for those who joined this relay.
    held_through: u64,
    /// Its welcome asked for `history`, which it may then send once.
    history_asked: bool,
}

impl Member {
    fn new(
        user_id: UserId,
        username: String,
        role: Role,
        familiar: Familiar,
        conn: Conn,
        resumable: bool,
    ) -> Self {
        Member {
            user_id,
            username,
            role,
            familiar,
            joined_at: now_rfc3339(),
            webrtc_connected: false,
            ice_path: None,
            conn: Some(conn),
            resumable,
            grace_timer: None,
            held_through: u64::MAX,
            history_asked: false,
        }
    }

    fn view(&self) -> ParticipantView {
        ParticipantView {
            user_id: self.user_id.to_string(),
            username: self.username.clone(),
            role: self.role,
            familiar: self.familiar.clone(),
            joined_at: self.joined_at.clone(),
            webrtc_connected: self.webrtc_connected,
            ice_path: self.ice_path,
            away: self.conn.is_none(),
        }
    }
}

impl Seated for Member {
    fn user_id(&self) -> &UserId {
        &self.user_id
    }
    fn conn_id(&self) -> Option<ConnId> {
        self.conn.as_ref().map(|c| c.id)
    }
    fn deliver(&self, out: Outbound) {
        if let Some(conn) = &self.conn {
            conn.send(out);
        }
    }
}

/// The session actor.
pub struct Session {
    /// This actor, as the registry and connections tell it apart from a restored successor
    /// with the same id.
    key: SessionKey,
    /// Stable across restarts (the host's token carries it); tokens name it.
    id: SessionId,
    /// What guests type; the registry files the session under it.
    code: SessionCode,
    /// The host's title for the session, sanitized.
    name: String,
    /// RFC 3339, kept across restarts.
    created_at: String,
    /// argon2id PHC string; `None` for an open session.
    password_hash: Option<String>,
    /// Host first, then in join order.
    roster: Roster<Member>,
    /// Users the host kicked; their tokens no longer work (carried in the host's token).
    kicked: HashSet<UserId>,
    /// What the host last said about playback.
    playback: PlaybackState,
    /// The last track metadata, so a late joiner sees the title at once.
    track_meta: Option<TrackMeta>,
    /// The last queue the host announced (`up_next`), likewise for late joiners.
    up_next: Option<Vec<QueuedTrack>>,
    /// Playback changed since the last heartbeat, so the next one is worth sending.
    playback_changed: bool,
    /// The last sequence number handed out (chat, reactions, playback updates).
    seq: u64,
    /// Recent chat and reactions, for replay on resume and to recognise re-sent ids.
    history: history::History,
    /// Wrong passwords this minute, to throttle guessing.
    wrong_passwords: MinuteWindow,
    /// Told when this actor stops, so the code is free at once.
    registry: Recipient<SessionStopped>,
    /// Limits, ICE servers, metrics, tokens.
    core: Arc<Core>,
    /// The host left: no more joins, and the actor is stopping.
    ended: bool,
    /// When the actor was made, for the log line at its end.
    born: Instant,
    /// The most participants at once, for the log line when the session ends.
    peak: usize,
    /// Participants (host included) when the session ended.
    at_end: usize,
}

impl Session {
    /// A session with no one in it yet; its first [`Admit`] seats the host (an
    /// [`Entry::Create`] or [`Entry::Restore`]).
    pub fn new(init: SessionInit, registry: Recipient<SessionStopped>, core: Arc<Core>) -> Self {
        let seq = first_seq();
        let (id, created_at, kicked, restored_below) = match init.restored {
            Some(r) => (
                r.session_id,
                r.created_at,
                r.kicked.into_iter().collect(),
                Some(seq),
            ),
            None => (SessionId::random(), now_rfc3339(), HashSet::new(), None),
        };
        Session {
            key: SessionKey::next(),
            id,
            code: init.code,
            name: init.name,
            created_at,
            password_hash: init.password_hash,
            roster: Roster::default(),
            kicked,
            playback: PlaybackState {
                track_id: None,
                is_playing: false,
                position_ms: 0.0,
            },
            track_meta: None,
            up_next: None,
            playback_changed: false,
            seq,
            history: history::History::new(core.limits.replay_buffer, restored_below),
            wrong_passwords: MinuteWindow::new(),
            registry,
            core,
            ended: false,
            born: Instant::now(),
            peak: 0,
            at_end: 0,
        }
    }

    /// This session's key, known before it starts (the registry files it under it).
    pub fn key(&self) -> SessionKey {
        self.key
    }

    /// This session's id.
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    fn view(&self) -> SessionView {
        SessionView {
            id: self.id.to_string(),
            code: self.code.as_str().to_string(),
            name: self.name.clone(),
            host_id: self
                .roster
                .host()
                .map_or(String::new(), |h| h.user_id.to_string()),
            created_at: self.created_at.clone(),
            participant_count: self.roster.len(),
            webrtc_enabled: true,
            has_password: self.password_hash.is_some(),
            playback_state: self.playback.clone(),
            track_meta: self.track_meta.clone(),
            up_next: self.up_next.clone(),
            participants: self.roster.iter().map(Member::view).collect(),
            seq: self.seq,
        }
    }

    fn token_for(&self, member: &Member) -> String {
        let host = (member.role == Role::Host).then(|| HostClaims {
            name: self.name.clone(),
            created_at: self.created_at.clone(),
            password_hash: self.password_hash.clone(),
            kicked: self.kicked.iter().cloned().collect(),
        });
        self.core.tokens.sign(&ResumeClaims {
            code: self.code.clone(),
            session_id: self.id.clone(),
            user_id: member.user_id.clone(),
            role: member.role,
            username: member.username.clone(),
            familiar: member.familiar.clone(),
            exp: unix_now() + self.core.limits.token_ttl.as_secs(),
            nonce: rand::random(),
            host,
        })
    }

    /// Sends `msg` to every connected member for whom `to` is true, serialized once.
    fn broadcast(&self, msg: &ServerMessage, to: impl Fn(&Member) -> bool) {
        self.roster.broadcast(|| msg.to_text(), to);
    }

    fn send_to(&self, seat: Seat, msg: &ServerMessage) {
        self.roster.send(seat, Outbound::Frame(msg.to_text()));
    }

    fn send_error(&self, seat: Seat, code: ErrorCode) {
        self.roster.send(seat, self.core.error(code));
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Handles one in-session message from the member in `seat`: each arm is a rule in the
    /// file named after it.
    fn command(
        &mut self,
        seat: Seat,
        msg: ClientMessage,
        received: Instant,
        ctx: &mut Context<Self>,
    ) {
        match msg {
            ClientMessage::UpdateFamiliar { familiar } => self.update_familiar(seat, familiar),
            ClientMessage::Playback {
                track_id,
                is_playing,
                position_ms,
                track_meta,
                up_next,
            } => self.playback(seat, track_id, is_playing, position_ms, track_meta, up_next),
            ClientMessage::SyncRequest {} => self.sync(seat),
            ClientMessage::Chat { message, id } => self.chat(seat, message, id, received),
            ClientMessage::Reaction { kind, id } => self.react(seat, kind, id),
            ClientMessage::History { entries } => self.take_history(seat, entries),
            ClientMessage::Kick { target_user_id } => self.kick(seat, &target_user_id, ctx),
            ClientMessage::WebrtcRequest {} => self.request_offer(seat),
            ClientMessage::WebrtcOffer {
                target_user_id,
                sdp,
            } => self.offer(seat, &target_user_id, &sdp, received),
            ClientMessage::WebrtcAnswer { sdp } => self.answer(seat, &sdp, received),
            ClientMessage::WebrtcIce {
                target_user_id,
                candidate,
            } => self.ice(seat, target_user_id.as_deref(), &candidate, received),
            ClientMessage::WebrtcConnected {
                connected,
                path,
                failed_stage,
            } => self.connected(seat, connected, path, failed_stage),
            // Membership changes are separate messages; the connection never routes these here.
            ClientMessage::Create { .. }
            | ClientMessage::Join(_)
            | ClientMessage::JoinGuest(_)
            | ClientMessage::Resume { .. }
            | ClientMessage::Leave {} => {}
        }
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.core.metrics.sessions_live.inc();
        ctx.run_interval(self.core.limits.heartbeat_interval, |act, ctx| {
            act.heartbeat();
            act.sweep_dead_connections(ctx);
        });
        log::info!("session {} started", self.code.short());
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.core.metrics.sessions_live.dec();
        let remaining = if self.ended {
            self.at_end
        } else {
            self.roster.len()
        };
        // Anyone still seated is here because the relay is shutting down (an ended session has
        // let everyone go already). They are not detached: each connection is about to be told
        // the restart, as a host or not by the membership it still holds.
        let (host, rest) = self.roster.take_all();
        for _ in host.into_iter().chain(rest) {
            self.core.metrics.participants_live.dec();
        }
        log::info!(
            "session {} {} after {}s: {} participants at most, {} at the end",
            self.code.short(),
            if self.ended {
                "ended"
            } else {
                "stopped for shutdown"
            },
            self.born.elapsed().as_secs(),
            self.peak,
            remaining
        );
        self.registry.do_send(SessionStopped {
            code: self.code.clone(),
            key: self.key,
            ended: self.ended,
        });
    }
}

impl Handler<Admit> for Session {
    type Result = ResponseActFuture<Self, Result<Joined, JoinError>>;

    fn handle(&mut self, msg: Admit, ctx: &mut Context<Self>) -> Self::Result {
        self.admit(msg, ctx)
    }
}

impl Handler<Command> for Session {
    type Result = ();

    fn handle(&mut self, msg: Command, ctx: &mut Context<Self>) {
        if let Some(seat) = self.roster.by_conn(msg.from) {
            self.command(seat, msg.msg, msg.received, ctx);
        }
    }
}

impl Handler<Leave> for Session {
    type Result = bool;

    fn handle(&mut self, msg: Leave, ctx: &mut Context<Self>) -> bool {
        let Some(seat) = self.roster.by_conn(msg.from) else {
            return false;
        };
        self.send_to(seat, &ServerMessage::Left {});
        self.depart(seat, Departure::Left, ctx);
        true
    }
}

impl Handler<Disconnected> for Session {
    type Result = ();

    fn handle(&mut self, msg: Disconnected, ctx: &mut Context<Self>) {
        if let Some(seat) = self.roster.by_conn(msg.from) {
            self.went_away(seat, ctx);
        }
    }
}

impl Handler<GetPublic> for Session {
    type Result = MessageResult<GetPublic>;

    fn handle(&mut self, _: GetPublic, _: &mut Context<Self>) -> Self::Result {
        MessageResult(PublicSession {
            code: self.code.as_str().to_string(),
            name: self.name.clone(),
            participant_count: self.roster.len(),
            has_password: self.password_hash.is_some(),
            turn_available: self.core.ice.turn_available(),
        })
    }
}

impl Handler<GetCensus> for Session {
    type Result = Census;

    fn handle(&mut self, _: GetCensus, _: &mut Context<Self>) -> Census {
        let connected = self.roster.connected();
        Census {
            members: self.roster.len(),
            connected,
            away: self.roster.len() - connected,
        }
    }
}

impl Handler<Shutdown> for Session {
    type Result = ();

    /// Stops without a word: every socket, in a session or not, hears `server_restarting` from
    /// its own connection (the drain tells connections first), and members stay in their
    /// hosts' tokens to come back to the next relay.
    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Now, RFC 3339 UTC with millisecond precision.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Where a session's sequence numbers start: the creation time in milliseconds × 1000. A session
/// recreated after a restart therefore continues above every number its clients saw before
/// (fewer than 1000 messages per millisecond ever pass), and stays below 2^53 for JavaScript.
fn first_seq() -> u64 {
    (chrono::Utc::now().timestamp_millis().max(0) as u64) * 1000
}

/// Cuts `s` to `max_chars` characters.
fn cut(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
