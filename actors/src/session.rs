//! The session actor: one per live session. It owns the participants and the playback state and
//! enforces every rule of the contract — who may send what, to whom it goes, in what order.
//!
//! Connections reach it directly (the registry is only asked once, on create/join/resume) and it
//! answers them only through each member's `Recipient<Outbound>`, so everything a member
//! receives from the session arrives in the order the session sent it: `session_joined` always
//! precedes any broadcast about the joiner. A broadcast is serialized once and the same text is
//! shared by every recipient.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;
use serde_json::Value;

use crate::code::SessionCode;
use crate::familiar::{clean_name, Familiar};
use crate::ice::IceServerSource;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::password;
use crate::protocol::{
    ClientMessage, ErrorCode, IcePath, ParticipantView, PlaybackState, PublicSession, Relayed,
    Role, ServerMessage, SessionView, TrackMeta,
};
use crate::token::{unix_now, HostClaims, ResumeClaims, TokenSigner};

/// What every registry and session shares: limits, ICE servers, metrics and the token signer.
pub struct Core {
    pub limits: Limits,
    pub ice: Arc<dyn IceServerSource>,
    pub metrics: Arc<Metrics>,
    pub tokens: TokenSigner,
}

impl Core {
    /// An `error` frame for `code`, counted in the metrics.
    pub fn error(&self, code: ErrorCode) -> Outbound {
        Metrics::inc(&self.metrics.errors_sent, "code", code.as_str());
        Outbound::Frame(ServerMessage::error(code).to_text())
    }

    /// An `error` frame with a retry hint, counted in the metrics.
    pub fn error_retry(&self, code: ErrorCode, retry_after_ms: u64) -> Outbound {
        Metrics::inc(&self.metrics.errors_sent, "code", code.as_str());
        Outbound::Frame(ServerMessage::error_retry(code, retry_after_ms).to_text())
    }
}

/// Identifies one WebSocket connection for its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

impl ConnId {
    /// A process-unique id.
    pub fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ConnId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Identifies one session actor (cheaper to compare than its id string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey(pub u64);

impl SessionKey {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        SessionKey(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// What a session sends to a connection.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum Outbound {
    /// One text frame, already serialized.
    Frame(ByteString),
    /// Close the socket with this code and reason.
    Close { code: u16, reason: &'static str },
    /// The connection is no longer a member of session `key` (ended, left or replaced).
    Detached { key: SessionKey },
}

/// A connection as a session knows it.
#[derive(Clone)]
pub struct Conn {
    pub id: ConnId,
    pub tx: Recipient<Outbound>,
}

impl Conn {
    fn send(&self, out: Outbound) {
        self.tx.do_send(out);
    }
}

/// Why a create, join or resume was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    NotFound,
    WrongPassword,
    SessionFull,
    ServerFull(usize),
    Throttled {
        retry_after_ms: u64,
    },
    Kicked,
    InvalidToken,
    TokenExpired,
    HostNotBack {
        retry_after_ms: u64,
    },
    /// A `create` whose password is over the limit: refused rather than cut, so the password
    /// the host typed is exactly the one guests must give.
    PasswordTooLong,
}

impl JoinError {
    /// The `error` frame for this refusal, counted in the metrics.
    pub fn to_outbound(&self, core: &Core) -> Outbound {
        match self {
            JoinError::NotFound => core.error(ErrorCode::SessionNotFound),
            JoinError::WrongPassword => core.error(ErrorCode::InvalidPassword),
            JoinError::SessionFull => core.error(ErrorCode::SessionFull),
            JoinError::ServerFull(cap) => {
                Metrics::inc(&core.metrics.errors_sent, "code", "server_full");
                Outbound::Frame(crate::protocol::server_full(*cap).to_text())
            }
            JoinError::Throttled { retry_after_ms } => {
                core.error_retry(ErrorCode::JoinThrottled, *retry_after_ms)
            }
            JoinError::Kicked => core.error(ErrorCode::Kicked),
            JoinError::InvalidToken => core.error(ErrorCode::InvalidToken),
            JoinError::TokenExpired => core.error(ErrorCode::TokenExpired),
            JoinError::HostNotBack { retry_after_ms } => {
                core.error_retry(ErrorCode::HostNotBack, *retry_after_ms)
            }
            JoinError::PasswordTooLong => core.error(ErrorCode::PasswordTooLong),
        }
    }

    /// The metrics label for a join that failed this way.
    pub fn outcome(&self) -> &'static str {
        match self {
            JoinError::NotFound => "not_found",
            JoinError::WrongPassword => "wrong_password",
            JoinError::SessionFull | JoinError::ServerFull(_) => "full",
            JoinError::Throttled { .. } => "rate_limited",
            JoinError::Kicked => "kicked",
            JoinError::InvalidToken | JoinError::TokenExpired => "invalid_token",
            JoinError::HostNotBack { .. } => "host_not_back",
            JoinError::PasswordTooLong => "password_too_long",
        }
    }
}

/// A successful create, join or resume: the connection is now this member of this session.
#[derive(Debug, Clone, MessageResponse)]
pub struct Joined {
    pub key: SessionKey,
    pub user_id: String,
}

/// Everything needed to start a session (fresh, or recreated from a host's resume token).
pub struct SessionInit {
    pub code: SessionCode,
    pub name: String,
    pub password_hash: Option<String>,
    pub host: Conn,
    pub host_username: String,
    pub host_familiar: Familiar,
    /// The host declared it can resume (always true for a session its token restores).
    pub host_resumable: bool,
    /// Set when the host's resume token recreates the session after a restart.
    pub restored: Option<Restored>,
}

/// What a host's resume token restores.
pub struct Restored {
    pub session_id: String,
    pub host_user_id: String,
    pub created_at: String,
    pub kicked: Vec<String>,
    pub last_seq: Option<u64>,
}

/// Tells the registry that a session stopped, so its code is free at once.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SessionStopped {
    pub code: SessionCode,
    pub key: SessionKey,
    /// True when the session ended for good (host left), false on shutdown.
    pub ended: bool,
}

/// A `join` or `join_guest`.
#[derive(Message)]
#[rtype(result = "Result<Joined, JoinError>")]
pub struct Join {
    pub conn: Conn,
    pub role: Role,
    pub username: Option<String>,
    pub password: Option<String>,
    pub familiar: Option<Value>,
    /// The joiner declared the `resume` capability.
    pub resumable: bool,
}

/// A `resume` for a member of this session.
#[derive(Message)]
#[rtype(result = "Result<Joined, JoinError>")]
pub struct Resume {
    pub conn: Conn,
    pub claims: ResumeClaims,
    pub last_seq: Option<u64>,
}

/// A message from a member's connection (anything but create/join/resume/leave).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Command {
    pub from: ConnId,
    pub msg: ClientMessage,
    /// When the frame arrived, for the relay latency histogram.
    pub received: Instant,
}

/// A `leave`. Answers true when the session sent `left {}` to the connection itself.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Leave {
    pub from: ConnId,
}

/// The connection's socket closed without `leave`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnected {
    pub from: ConnId,
}

/// The public face of the session, for `by-code`.
#[derive(Message)]
#[rtype(result = "PublicSession")]
pub struct GetPublic;

/// The relay is shutting down: tell everyone to come back soon and close their sockets.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Counts of what a session holds, for tests and invariants.
#[derive(Debug, Clone, PartialEq, Eq, MessageResponse)]
pub struct Census {
    pub members: usize,
    pub connected: usize,
    pub away: usize,
}

/// Asks for a [`Census`].
#[derive(Message)]
#[rtype(result = "Census")]
pub struct GetCensus;

/// One participant.
struct Member {
    user_id: String,
    username: String,
    role: Role,
    familiar: Familiar,
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
}

impl Member {
    fn view(&self) -> ParticipantView {
        ParticipantView {
            user_id: self.user_id.clone(),
            username: self.username.clone(),
            role: self.role,
            familiar: self.familiar.clone(),
            joined_at: self.joined_at.clone(),
            webrtc_connected: self.webrtc_connected,
            ice_path: self.ice_path,
            away: self.conn.is_none(),
        }
    }

    fn is(&self, conn: ConnId) -> bool {
        self.conn.as_ref().is_some_and(|c| c.id == conn)
    }

    fn send(&self, out: Outbound) {
        if let Some(conn) = &self.conn {
            conn.send(out);
        }
    }
}

/// Why a member is leaving; decides what the others are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Departure {
    Left,
    Disconnected,
    Kicked,
}

impl Departure {
    fn reason(self) -> &'static str {
        match self {
            Departure::Left => "left",
            Departure::Disconnected => "disconnected",
            Departure::Kicked => "kicked",
        }
    }
}

/// A fixed one-minute window counter, for throttling wrong passwords.
#[derive(Debug, Clone, Copy)]
pub struct MinuteWindow {
    start: Instant,
    count: u32,
}

impl MinuteWindow {
    pub fn new() -> Self {
        MinuteWindow {
            start: Instant::now(),
            count: 0,
        }
    }

    fn roll(&mut self) {
        if self.start.elapsed() >= Duration::from_secs(60) {
            self.start = Instant::now();
            self.count = 0;
        }
    }

    /// Milliseconds until the window resets, when `limit` is already reached.
    pub fn blocked(&mut self, limit: u32) -> Option<u64> {
        self.roll();
        (self.count >= limit).then(|| {
            Duration::from_secs(60)
                .saturating_sub(self.start.elapsed())
                .as_millis() as u64
        })
    }

    pub fn record(&mut self) {
        self.roll();
        self.count = self.count.saturating_add(1);
    }
}

impl Default for MinuteWindow {
    fn default() -> Self {
        Self::new()
    }
}

/// The session actor.
pub struct Session {
    key: SessionKey,
    id: String,
    code: SessionCode,
    name: String,
    created_at: String,
    password_hash: Option<String>,
    /// Host first, then in join order.
    members: Vec<Member>,
    /// Users the host kicked; their tokens no longer work.
    kicked: HashSet<String>,
    playback: PlaybackState,
    track_meta: Option<TrackMeta>,
    /// Playback changed since the last heartbeat.
    playback_changed: bool,
    /// The last sequence number handed out (chat, reactions, playback updates).
    seq: u64,
    /// Recent chat and reactions, for replay on resume.
    replay: VecDeque<(u64, ByteString)>,
    wrong_passwords: MinuteWindow,
    registry: Recipient<SessionStopped>,
    core: Arc<Core>,
    /// The host's connection and the messages to send it once the actor runs.
    pending_host: Option<(Conn, Option<u64>)>,
    ended: bool,
    born: Instant,
    /// The most participants at once, for the log line when the session ends.
    peak: usize,
    /// Participants (host included) when the session ended.
    at_end: usize,
}

impl Session {
    /// A session whose host is `init.host`; `session_created` (or `session_resumed`) is sent
    /// to it as soon as the actor starts.
    pub fn new(init: SessionInit, registry: Recipient<SessionStopped>, core: Arc<Core>) -> Self {
        let restored = init.restored;
        let restored_host = restored.is_some();
        let (id, host_user_id, created_at, kicked, last_seq) = match restored {
            Some(r) => (
                r.session_id,
                r.host_user_id,
                r.created_at,
                r.kicked.into_iter().collect(),
                r.last_seq.or(Some(0)),
            ),
            None => (
                uuid::Uuid::new_v4().to_string(),
                uuid::Uuid::new_v4().to_string(),
                now_rfc3339(),
                HashSet::new(),
                None,
            ),
        };
        let host = Member {
            user_id: host_user_id,
            username: init.host_username,
            role: Role::Host,
            familiar: init.host_familiar,
            joined_at: created_at.clone(),
            webrtc_connected: false,
            ice_path: None,
            conn: Some(init.host.clone()),
            resumable: init.host_resumable || restored_host,
            grace_timer: None,
        };
        Session {
            key: SessionKey::next(),
            id,
            code: init.code,
            name: init.name,
            created_at,
            password_hash: init.password_hash,
            members: vec![host],
            kicked,
            playback: PlaybackState {
                track_id: None,
                is_playing: false,
                position_ms: 0.0,
            },
            track_meta: None,
            playback_changed: false,
            seq: first_seq(),
            replay: VecDeque::new(),
            wrong_passwords: MinuteWindow::new(),
            registry,
            core,
            pending_host: Some((init.host, last_seq)),
            ended: false,
            born: Instant::now(),
            peak: 1,
            at_end: 0,
        }
    }

    /// This session's key, known before it starts (the registry files it under it).
    pub fn key(&self) -> SessionKey {
        self.key
    }

    /// The host's user id.
    pub fn host_user_id(&self) -> &str {
        self.host_id()
    }

    /// This session's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn view(&self) -> SessionView {
        SessionView {
            id: self.id.clone(),
            code: self.code.as_str().to_string(),
            name: self.name.clone(),
            host_id: self.host_id().to_string(),
            created_at: self.created_at.clone(),
            participant_count: self.members.len(),
            webrtc_enabled: true,
            has_password: self.password_hash.is_some(),
            playback_state: self.playback.clone(),
            track_meta: self.track_meta.clone(),
            participants: self.members.iter().map(Member::view).collect(),
            seq: self.seq,
        }
    }

    fn host_id(&self) -> &str {
        self.members.first().map_or("", |m| m.user_id.as_str())
    }

    fn find_conn(&self, conn: ConnId) -> Option<usize> {
        self.members.iter().position(|m| m.is(conn))
    }

    fn find_user(&self, user_id: &str) -> Option<usize> {
        self.members.iter().position(|m| m.user_id == user_id)
    }

    fn token_for(&self, member: &Member) -> String {
        let host = (member.role == Role::Host).then(|| HostClaims {
            name: self.name.clone(),
            created_at: self.created_at.clone(),
            password_hash: self.password_hash.clone(),
            kicked: self.kicked.iter().cloned().collect(),
        });
        self.core.tokens.sign(&ResumeClaims {
            code: self.code.as_str().to_string(),
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

    /// Sends `msg` to every connected member for whom `to` is true.
    fn broadcast(&self, msg: &ServerMessage, to: impl Fn(&Member) -> bool) {
        let mut frame = None;
        for member in self.members.iter().filter(|m| m.conn.is_some() && to(m)) {
            let text = frame.get_or_insert_with(|| msg.to_text()).clone();
            member.send(Outbound::Frame(text));
        }
    }

    fn send_to(&self, index: usize, msg: &ServerMessage) {
        self.members[index].send(Outbound::Frame(msg.to_text()));
    }

    fn send_error(&self, index: usize, code: ErrorCode) {
        self.members[index].send(self.core.error(code));
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Keeps `frame` for replay to members that resume after missing it.
    fn remember(&mut self, seq: u64, frame: ByteString) {
        if self.core.limits.replay_buffer == 0 {
            return;
        }
        while self.replay.len() >= self.core.limits.replay_buffer {
            self.replay.pop_front();
        }
        self.replay.push_back((seq, frame));
    }

    /// Adds a member and tells everyone: the joiner first (`session_joined` or
    /// `session_resumed`), then the host (`guest_joined`) and the others (`user_joined`).
    fn admit(&mut self, member: Member, resumed: bool) -> Joined {
        let conn_id = member.conn.as_ref().map(|c| c.id);
        self.members.push(member);
        self.peak = self.peak.max(self.members.len());
        self.core.metrics.participants_live.inc();
        let index = self.members.len() - 1;
        let joiner = &self.members[index];
        let user_id = joiner.user_id.clone();
        let fields = (
            self.view(),
            user_id.clone(),
            user_id.clone(),
            self.core.ice.current().as_ref().clone(),
            self.token_for(joiner),
        );
        let reply = if resumed {
            ServerMessage::SessionResumed {
                session: fields.0,
                your_user_id: fields.1,
                your_peer_id: fields.2,
                ice_servers: fields.3,
                resume_token: fields.4,
            }
        } else {
            ServerMessage::SessionJoined {
                session: fields.0,
                your_user_id: fields.1,
                your_peer_id: fields.2,
                ice_servers: fields.3,
                resume_token: fields.4,
            }
        };
        self.send_to(index, &reply);
        let count = self.members.len();
        let joiner = &self.members[index];
        let guest_joined = ServerMessage::GuestJoined {
            user_id: joiner.user_id.clone(),
            username: joiner.username.clone(),
            peer_id: joiner.user_id.clone(),
            familiar: joiner.familiar.clone(),
            participant_count: count,
        };
        let user_joined = ServerMessage::UserJoined {
            user: joiner.view(),
            participant_count: count,
        };
        self.send_to(0, &guest_joined);
        self.broadcast(&user_joined, |m| m.conn.as_ref().map(|c| c.id) != conn_id);
        Joined {
            key: self.key,
            user_id,
        }
    }

    fn join_now(&mut self, msg: Join) -> Result<Joined, JoinError> {
        if self.ended {
            return Err(JoinError::NotFound);
        }
        if self.members.len() >= self.core.limits.max_participants {
            return Err(JoinError::SessionFull);
        }
        let limits = &self.core.limits;
        let username = clean_name(msg.username.as_deref(), limits.max_name_chars, "Guest");
        let familiar = Familiar::sanitize(msg.familiar.as_ref(), &username);
        let member = Member {
            user_id: uuid::Uuid::new_v4().to_string(),
            username,
            role: msg.role,
            familiar,
            joined_at: now_rfc3339(),
            webrtc_connected: false,
            ice_path: None,
            conn: Some(msg.conn),
            resumable: msg.resumable,
            grace_timer: None,
        };
        Ok(self.admit(member, false))
    }

    fn resume_now(&mut self, msg: Resume, ctx: &mut Context<Self>) -> Result<Joined, JoinError> {
        let claims = msg.claims;
        if self.ended || claims.session_id != self.id {
            return Err(JoinError::NotFound);
        }
        if self.kicked.contains(&claims.user_id) {
            return Err(JoinError::Kicked);
        }
        let joined = match self.find_user(&claims.user_id) {
            Some(index) => self.reconnect(index, msg.conn, ctx),
            None => {
                if claims.role == Role::Host {
                    // The host's slot is always index 0 and never re-added.
                    return Err(JoinError::NotFound);
                }
                if self.members.len() >= self.core.limits.max_participants {
                    return Err(JoinError::SessionFull);
                }
                let member = Member {
                    user_id: claims.user_id,
                    username: claims.username,
                    role: claims.role,
                    familiar: claims.familiar,
                    joined_at: now_rfc3339(),
                    webrtc_connected: false,
                    ice_path: None,
                    conn: Some(msg.conn),
                    resumable: true,
                    grace_timer: None,
                };
                self.admit(member, true)
            }
        };
        if let Some(index) = self.find_user(&joined.user_id) {
            self.replay_to(index, msg.last_seq);
        }
        Ok(joined)
    }

    /// Puts a member back on a new connection, replacing an old one if it was still open.
    fn reconnect(&mut self, index: usize, conn: Conn, ctx: &mut Context<Self>) -> Joined {
        let key = self.key;
        let member = &mut self.members[index];
        if let Some(timer) = member.grace_timer.take() {
            ctx.cancel_future(timer);
        }
        let was_away = member.conn.is_none();
        member.resumable = true;
        if let Some(old) = member.conn.replace(conn) {
            // A half-open old socket: it is no longer this member.
            old.send(Outbound::Detached { key });
            old.send(Outbound::Close {
                code: 4000,
                reason: "resumed elsewhere",
            });
        }
        let member = &self.members[index];
        let reply = ServerMessage::SessionResumed {
            session: self.view(),
            your_user_id: member.user_id.clone(),
            your_peer_id: member.user_id.clone(),
            ice_servers: self.core.ice.current().as_ref().clone(),
            resume_token: self.token_for(member),
        };
        self.send_to(index, &reply);
        if was_away {
            let back = ServerMessage::UserBack {
                user_id: member.user_id.clone(),
            };
            self.broadcast(&back, |m| m.user_id != member.user_id);
        }
        Joined {
            key,
            user_id: member.user_id.clone(),
        }
    }

    /// Sends a resumed member what it missed: chat and reactions after `last_seq`, once, then
    /// the current playback as one snapshot.
    fn replay_to(&self, index: usize, last_seq: Option<u64>) {
        let Some(last_seq) = last_seq else { return };
        let member = &self.members[index];
        for (_, frame) in self.replay.iter().filter(|(seq, _)| *seq > last_seq) {
            member.send(Outbound::Frame(frame.clone()));
        }
        if member.role != Role::Host && self.seq > last_seq {
            self.send_to(index, &self.playback_message(false, Some(self.seq)));
        }
    }

    fn playback_message(&self, heartbeat: bool, seq: Option<u64>) -> ServerMessage {
        ServerMessage::PlaybackUpdate {
            track_id: self.playback.track_id.clone(),
            is_playing: self.playback.is_playing,
            position_ms: self.playback.position_ms,
            track_meta: self.track_meta.clone(),
            heartbeat,
            seq,
        }
    }

    /// Removes member `index` and tells the others; the host's departure ends the session.
    fn depart(&mut self, index: usize, why: Departure, ctx: &mut Context<Self>) {
        if index == 0 {
            self.end(ctx);
            return;
        }
        let member = self.members.remove(index);
        self.core.metrics.participants_live.dec();
        if let Some(timer) = member.grace_timer {
            ctx.cancel_future(timer);
        }
        if let Some(conn) = &member.conn {
            conn.send(Outbound::Detached { key: self.key });
        }
        let left = ServerMessage::UserLeft {
            user_id: member.user_id,
            participant_count: self.members.len(),
            reason: Some(why.reason().to_string()),
        };
        self.broadcast(&left, |_| true);
    }

    /// Ends the session: everyone remaining hears `user_left` (reason `host_left`), then
    /// `session_ended`; the code is freed when the actor stops.
    fn end(&mut self, ctx: &mut Context<Self>) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.at_end = self.members.len();
        let host = self.members.remove(0);
        self.core.metrics.participants_live.dec();
        if let Some(conn) = &host.conn {
            conn.send(Outbound::Detached { key: self.key });
        }
        let left = ServerMessage::UserLeft {
            user_id: host.user_id,
            participant_count: self.members.len(),
            reason: Some("host_left".into()),
        };
        let ended = ServerMessage::SessionEnded {
            reason: "host_left".into(),
        };
        self.broadcast(&left, |_| true);
        self.broadcast(&ended, |_| true);
        for member in self.members.drain(..) {
            self.core.metrics.participants_live.dec();
            member.send(Outbound::Detached { key: self.key });
        }
        ctx.stop();
    }

    /// A member's socket dropped: keep it as away for the grace period, then remove it. A member
    /// that never said it resumes departs at once, as the contract says (a host's drop ends the
    /// session): it would never come back, and the others would wait for nothing.
    fn went_away(&mut self, index: usize, ctx: &mut Context<Self>) {
        let grace = self.core.limits.grace_period;
        if grace.is_zero() || !self.members[index].resumable {
            self.depart(index, Departure::Disconnected, ctx);
            return;
        }
        let member = &mut self.members[index];
        member.conn = None;
        let user_id = member.user_id.clone();
        let timer_user = user_id.clone();
        member.grace_timer = Some(ctx.run_later(grace, move |act, ctx| {
            if let Some(index) = act.find_user(&timer_user) {
                if act.members[index].conn.is_none() {
                    act.members[index].grace_timer = None;
                    act.depart(index, Departure::Disconnected, ctx);
                }
            }
        }));
        let notice = if index == 0 {
            ServerMessage::HostAway {
                user_id: user_id.clone(),
                grace_ms: grace.as_millis() as u64,
            }
        } else {
            ServerMessage::UserAway {
                user_id: user_id.clone(),
            }
        };
        self.broadcast(&notice, |m| m.user_id != user_id);
    }

    /// Handles one in-session message from member `index`.
    fn command(
        &mut self,
        index: usize,
        msg: ClientMessage,
        received: Instant,
        ctx: &mut Context<Self>,
    ) {
        let is_host = index == 0;
        let limits = &self.core.limits;
        match msg {
            ClientMessage::UpdateFamiliar { familiar } => {
                let member = &mut self.members[index];
                member.familiar = Familiar::sanitize(familiar.as_ref(), &member.username);
                let updated = ServerMessage::UserUpdated {
                    user: member.view(),
                };
                self.broadcast(&updated, |_| true);
            }
            ClientMessage::Playback {
                track_id,
                is_playing,
                position_ms,
                track_meta,
            } => {
                if !is_host {
                    return self.send_error(index, ErrorCode::NotHost);
                }
                if let Some(track_id) = track_id {
                    self.playback.track_id = track_id.map(|t| cut(&t, 512));
                }
                if let Some(is_playing) = is_playing {
                    self.playback.is_playing = is_playing;
                }
                if let Some(position) = position_ms.filter(|p| p.is_finite() && *p >= 0.0) {
                    self.playback.position_ms = position;
                }
                self.track_meta = track_meta.as_ref().and_then(sanitize_track_meta);
                self.playback_changed = true;
                let seq = self.next_seq();
                let update = self.playback_message(false, Some(seq));
                self.broadcast(&update, |m| m.role != Role::Host);
            }
            ClientMessage::SyncRequest {} => {
                let sync = ServerMessage::SyncResponse {
                    track_id: self.playback.track_id.clone(),
                    is_playing: self.playback.is_playing,
                    position_ms: self.playback.position_ms,
                };
                self.send_to(index, &sync);
            }
            ClientMessage::Chat { message } => {
                let message: String = message
                    .chars()
                    .filter(|c| !c.is_control() || *c == '\n')
                    .collect();
                if message.trim().is_empty() {
                    return self.send_error(index, ErrorCode::ChatEmpty);
                }
                if message.chars().count() > limits.max_chat_chars {
                    return self.send_error(index, ErrorCode::ChatTooLong);
                }
                let seq = self.next_seq();
                let member = &self.members[index];
                let chat = ServerMessage::Chat {
                    user_id: member.user_id.clone(),
                    username: member.username.clone(),
                    message,
                    seq: Some(seq),
                };
                let frame = chat.to_text();
                for m in &self.members {
                    m.send(Outbound::Frame(frame.clone()));
                }
                self.remember(seq, frame);
                self.core
                    .metrics
                    .relay_seconds
                    .observe(received.elapsed().as_secs_f64());
            }
            ClientMessage::Reaction { kind } => {
                const KINDS: [&str; 4] = ["cheer", "pulse", "wave", "spark"];
                if !KINDS.contains(&kind.as_str()) {
                    return;
                }
                let seq = self.next_seq();
                let member = &self.members[index];
                let reaction = ServerMessage::UserReaction {
                    user_id: member.user_id.clone(),
                    username: member.username.clone(),
                    kind,
                    timestamp: now_millis(),
                    seq: Some(seq),
                };
                let frame = reaction.to_text();
                for m in &self.members {
                    m.send(Outbound::Frame(frame.clone()));
                }
                self.remember(seq, frame);
            }
            ClientMessage::Kick { target_user_id } => {
                let target = self.find_user(&target_user_id).filter(|t| *t != 0);
                let (true, Some(target)) = (is_host, target) else {
                    return self.send_error(index, ErrorCode::CannotKick);
                };
                let kicked = &self.members[target];
                let notice = ServerMessage::UserKicked {
                    user_id: kicked.user_id.clone(),
                    reason: "host_kicked".into(),
                };
                kicked.send(Outbound::Frame(notice.to_text()));
                kicked.send(Outbound::Close {
                    code: 1000,
                    reason: "kicked",
                });
                self.kicked.insert(kicked.user_id.clone());
                self.depart(target, Departure::Kicked, ctx);
                // The host's token now lists the kicked user, so it stays out after a restart.
                let refreshed = ServerMessage::TokenRefreshed {
                    resume_token: self.token_for(&self.members[0]),
                };
                self.send_to(0, &refreshed);
            }
            ClientMessage::WebrtcRequest {} => {
                if is_host {
                    return self.send_error(index, ErrorCode::HostCannotRequestOffer);
                }
                let member = &self.members[index];
                let request = ServerMessage::WebrtcCreateOffer {
                    target_user_id: member.user_id.clone(),
                    peer_id: member.user_id.clone(),
                };
                self.send_to(0, &request);
            }
            ClientMessage::WebrtcOffer {
                target_user_id,
                sdp,
            } => {
                if !is_host {
                    return self.send_error(index, ErrorCode::NotAllowed);
                }
                if let Some(target) = self.find_user(&target_user_id).filter(|t| *t != 0) {
                    let offer = Relayed::WebrtcOffer {
                        sdp: &sdp,
                        from_user_id: &self.members[0].user_id,
                    };
                    self.members[target].send(Outbound::Frame(offer.to_text()));
                }
                self.core
                    .metrics
                    .relay_seconds
                    .observe(received.elapsed().as_secs_f64());
            }
            ClientMessage::WebrtcAnswer { sdp } => {
                if is_host {
                    return self.send_error(index, ErrorCode::NotAllowed);
                }
                let answer = Relayed::WebrtcAnswer {
                    sdp: &sdp,
                    from_user_id: &self.members[index].user_id,
                };
                self.members[0].send(Outbound::Frame(answer.to_text()));
                self.core
                    .metrics
                    .relay_seconds
                    .observe(received.elapsed().as_secs_f64());
            }
            ClientMessage::WebrtcIce {
                target_user_id,
                candidate,
            } => {
                // Guests may send ICE only to the host, whatever they name as target.
                let target = if is_host {
                    target_user_id
                        .and_then(|t| self.find_user(&t))
                        .filter(|t| *t != 0)
                } else {
                    Some(0)
                };
                if let Some(target) = target {
                    let ice = Relayed::WebrtcIce {
                        candidate: &candidate,
                        from_user_id: &self.members[index].user_id,
                    };
                    self.members[target].send(Outbound::Frame(ice.to_text()));
                }
                self.core
                    .metrics
                    .relay_seconds
                    .observe(received.elapsed().as_secs_f64());
            }
            ClientMessage::WebrtcConnected {
                connected,
                path,
                failed_stage,
            } => {
                let failed_stage = failed_stage.map(|s| cut(&s, 64));
                let member = &mut self.members[index];
                member.webrtc_connected = connected;
                if connected {
                    member.ice_path = path.or(member.ice_path);
                    if let Some(path) = path {
                        let label = match path {
                            IcePath::Direct => "direct",
                            IcePath::Stun => "stun",
                            IcePath::Turn => "turn",
                        };
                        Metrics::inc(&self.core.metrics.ice_outcomes, "path", label);
                    }
                } else if failed_stage.is_some() {
                    Metrics::inc(&self.core.metrics.ice_outcomes, "path", "failed");
                }
                let changed = ServerMessage::WebrtcStateChanged {
                    user_id: member.user_id.clone(),
                    connected,
                    path: if connected { path } else { None },
                    failed_stage: if connected { None } else { failed_stage },
                };
                let sender = member.user_id.clone();
                self.broadcast(&changed, |m| m.user_id != sender);
            }
            // Membership changes are separate messages; the connection never routes these here.
            ClientMessage::Create { .. }
            | ClientMessage::Join(_)
            | ClientMessage::JoinGuest(_)
            | ClientMessage::Resume { .. }
            | ClientMessage::Leave {} => {}
        }
    }

    /// A connection that died without telling us (it stopped while its join was in flight)
    /// is handled as a disconnect, so no member lingers on a dead recipient.
    fn sweep_dead_connections(&mut self, ctx: &mut Context<Self>) {
        while let Some(index) = self
            .members
            .iter()
            .position(|m| m.conn.as_ref().is_some_and(|c| !c.tx.connected()))
        {
            if self.ended {
                return;
            }
            self.went_away(index, ctx);
        }
    }

    fn heartbeat(&mut self) {
        if !self.playback_changed {
            return;
        }
        self.playback_changed = false;
        let beat = self.playback_message(true, None);
        self.broadcast(&beat, |m| m.role != Role::Host);
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.core.metrics.sessions_live.inc();
        self.core.metrics.participants_live.inc();
        ctx.run_interval(self.core.limits.heartbeat_interval, |act, ctx| {
            act.heartbeat();
            act.sweep_dead_connections(ctx);
        });
        if let Some((conn, last_seq)) = self.pending_host.take() {
            let host = &self.members[0];
            let reply = match last_seq {
                None => ServerMessage::SessionCreated {
                    session: self.view(),
                    your_user_id: host.user_id.clone(),
                    ice_servers: self.core.ice.current().as_ref().clone(),
                    resume_token: self.token_for(host),
                },
                Some(_) => ServerMessage::SessionResumed {
                    session: self.view(),
                    your_user_id: host.user_id.clone(),
                    your_peer_id: host.user_id.clone(),
                    ice_servers: self.core.ice.current().as_ref().clone(),
                    resume_token: self.token_for(host),
                },
            };
            conn.send(Outbound::Frame(reply.to_text()));
        }
        log::info!("session {} started", self.code.short());
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.core.metrics.sessions_live.dec();
        let remaining = if self.ended {
            self.at_end
        } else {
            self.members.len()
        };
        for member in self.members.drain(..) {
            self.core.metrics.participants_live.dec();
            member.send(Outbound::Detached { key: self.key });
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

impl Handler<Join> for Session {
    type Result = ResponseActFuture<Self, Result<Joined, JoinError>>;

    fn handle(&mut self, msg: Join, _: &mut Context<Self>) -> Self::Result {
        let limits = &self.core.limits;
        let Some(hash) = self.password_hash.clone() else {
            return Box::pin(fut::ready(self.join_now(msg)));
        };
        if let Some(retry_after_ms) = self
            .wrong_passwords
            .blocked(limits.wrong_passwords_per_minute)
        {
            return Box::pin(fut::ready(Err(JoinError::Throttled { retry_after_ms })));
        }
        let given = msg.password.clone().unwrap_or_default();
        if given.len() > limits.max_password_bytes {
            self.wrong_passwords.record();
            return Box::pin(fut::ready(Err(JoinError::WrongPassword)));
        }
        Box::pin(
            password::verify_off_thread(hash, given)
                .into_actor(self)
                .map(move |ok, act, _| {
                    if ok {
                        act.join_now(msg)
                    } else {
                        act.wrong_passwords.record();
                        Err(JoinError::WrongPassword)
                    }
                }),
        )
    }
}

impl Handler<Resume> for Session {
    type Result = Result<Joined, JoinError>;

    fn handle(&mut self, msg: Resume, ctx: &mut Context<Self>) -> Self::Result {
        self.resume_now(msg, ctx)
    }
}

impl Handler<Command> for Session {
    type Result = ();

    fn handle(&mut self, msg: Command, ctx: &mut Context<Self>) {
        if let Some(index) = self.find_conn(msg.from) {
            self.command(index, msg.msg, msg.received, ctx);
        }
    }
}

impl Handler<Leave> for Session {
    type Result = bool;

    fn handle(&mut self, msg: Leave, ctx: &mut Context<Self>) -> bool {
        let Some(index) = self.find_conn(msg.from) else {
            return false;
        };
        self.members[index].send(Outbound::Frame(ServerMessage::Left {}.to_text()));
        self.depart(index, Departure::Left, ctx);
        true
    }
}

impl Handler<Disconnected> for Session {
    type Result = ();

    fn handle(&mut self, msg: Disconnected, ctx: &mut Context<Self>) {
        if let Some(index) = self.find_conn(msg.from) {
            self.went_away(index, ctx);
        }
    }
}

impl Handler<GetPublic> for Session {
    type Result = MessageResult<GetPublic>;

    fn handle(&mut self, _: GetPublic, _: &mut Context<Self>) -> Self::Result {
        MessageResult(PublicSession {
            code: self.code.as_str().to_string(),
            name: self.name.clone(),
            participant_count: self.members.len(),
            has_password: self.password_hash.is_some(),
            turn_available: self.core.ice.turn_available(),
        })
    }
}

impl Handler<GetCensus> for Session {
    type Result = Census;

    fn handle(&mut self, _: GetCensus, _: &mut Context<Self>) -> Census {
        let connected = self.members.iter().filter(|m| m.conn.is_some()).count();
        Census {
            members: self.members.len(),
            connected,
            away: self.members.len() - connected,
        }
    }
}

impl Handler<Shutdown> for Session {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        let retry_after_ms = self.core.limits.restart_retry_after.as_millis() as u64;
        let notice = ServerMessage::ServerRestarting { retry_after_ms };
        self.broadcast(&notice, |_| true);
        for member in &self.members {
            member.send(Outbound::Close {
                code: 1012,
                reason: "server restarting",
            });
        }
        ctx.stop();
    }
}

/// Keeps only `title`, `artist`, `album` (strings, cut to 200 characters) and `bpm` (a
/// positive finite number); `None` when nothing usable remains.
fn sanitize_track_meta(value: &Value) -> Option<TrackMeta> {
    let object = value.as_object()?;
    let text = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .map(|s| clean_name(Some(s), 200, ""))
            .filter(|s| !s.is_empty())
    };
    let meta = TrackMeta {
        title: text("title"),
        artist: text("artist"),
        album: text("album"),
        bpm: object
            .get("bpm")
            .and_then(Value::as_f64)
            .filter(|b| b.is_finite() && *b > 0.0 && *b < 1000.0),
    };
    (meta != TrackMeta::default()).then_some(meta)
}

fn cut(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
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

fn now_millis() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64
}
