//! What the registry and connections send a session, and what it answers. Create, join and
//! resume are one message, [`Admit`], answered by one `Result<Joined, JoinError>`.

use actix::prelude::*;
use serde_json::Value;

use crate::code::SessionCode;
use crate::familiar::Familiar;
use crate::ids::{ConnId, SessionId, SessionKey, UserId};
use crate::outbound::Conn;
use crate::protocol::{ClientMessage, ErrorCode, PublicSession, Role, ServerMessage};
use crate::token::ResumeClaims;

/// Why a create, join or resume was refused. `Display` is the reason as logs show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("no such session")]
    NotFound,
    #[error("wrong password")]
    WrongPassword,
    #[error("the session is full")]
    SessionFull,
    #[error("the relay is at its {0}-session cap")]
    ServerFull(usize),
    #[error("too many failures; retry in {retry_after_ms} ms")]
    Throttled { retry_after_ms: u64 },
    #[error("kicked from this session")]
    Kicked,
    #[error("not a valid token")]
    InvalidToken,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the host has not resumed yet; retry in {retry_after_ms} ms")]
    HostNotBack { retry_after_ms: u64 },
    /// A `create` whose password is over the limit: refused rather than cut, so the password
    /// the host typed is exactly the one guests must give.
    #[error("the password is over the length limit")]
    PasswordTooLong,
    /// The relay is draining for a restart: the request is answered by the `server_restarting`
    /// every socket gets, not by an error that would send the client elsewhere.
    #[error("the relay is restarting")]
    Restarting,
    /// A `create` from an address that already hosts its share of the session cap.
    #[error("the address already hosts {0} sessions")]
    TooManySessions(usize),
}

impl JoinError {
    /// The `error` frame the refused client gets.
    pub fn message(&self) -> (ServerMessage, ErrorCode) {
        let code = match self {
            JoinError::NotFound => ErrorCode::SessionNotFound,
            JoinError::WrongPassword => ErrorCode::InvalidPassword,
            JoinError::SessionFull => ErrorCode::SessionFull,
            JoinError::ServerFull(cap) => {
                return (crate::protocol::server_full(*cap), ErrorCode::ServerFull)
            }
            JoinError::Throttled { retry_after_ms } => {
                return (
                    ServerMessage::error_retry(ErrorCode::JoinThrottled, *retry_after_ms),
                    ErrorCode::JoinThrottled,
                )
            }
            JoinError::Kicked => ErrorCode::Kicked,
            JoinError::InvalidToken => ErrorCode::InvalidToken,
            JoinError::TokenExpired => ErrorCode::TokenExpired,
            JoinError::HostNotBack { retry_after_ms } => {
                return (
                    ServerMessage::error_retry(ErrorCode::HostNotBack, *retry_after_ms),
                    ErrorCode::HostNotBack,
                )
            }
            JoinError::PasswordTooLong => ErrorCode::PasswordTooLong,
            // Never framed: the connection is closing with `server_restarting`.
            JoinError::Restarting => ErrorCode::Internal,
            JoinError::TooManySessions(_) => ErrorCode::TooManySessions,
        };
        (ServerMessage::error(code), code)
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
            JoinError::Restarting => "restarting",
            JoinError::TooManySessions(_) => "too_many_sessions",
        }
    }
}

/// A successful admission: the connection is now this member of session `key`.
#[derive(Debug, Clone, MessageResponse)]
pub struct Joined {
    pub key: SessionKey,
    pub user_id: UserId,
    /// The member is the session's host.
    pub host: bool,
}

/// Everything needed to make a session (fresh, or recreated from a host's resume token); the
/// host arrives after, as the first [`Admit`].
pub struct SessionInit {
    pub code: SessionCode,
    pub name: String,
    pub password_hash: Option<String>,
    /// Set when the host's resume token recreates the session after a restart.
    pub restored: Option<Restored>,
}

/// What a host's resume token restores.
pub struct Restored {
    pub session_id: SessionId,
    pub created_at: String,
    pub kicked: Vec<UserId>,
}

/// How a connection enters a session.
pub enum Entry {
    /// `create`: the host of this new session (`session_created`).
    Create {
        username: String,
        familiar: Familiar,
        /// The host declared the `resume` capability.
        resumable: bool,
    },
    /// A host's `resume` that recreated this session after a restart (`session_resumed`).
    Restore {
        claims: ResumeClaims,
        /// The host's `last_seq`: what it holds from before the restart.
        last_seq: Option<u64>,
    },
    /// `join` (listener) or `join_guest` (guest): `session_joined`, once the password checks.
    Join {
        role: Role,
        username: Option<String>,
        password: Option<String>,
        familiar: Option<Value>,
        /// The joiner declared the `resume` capability.
        resumable: bool,
    },
    /// `resume` of a member of this session: `session_resumed`, then what it missed.
    Resume {
        claims: ResumeClaims,
        last_seq: Option<u64>,
    },
}

/// Puts `conn` into this session. The session sends the welcome itself, before any broadcast
/// about the newcomer, and answers with the membership.
#[derive(Message)]
#[rtype(result = "Result<Joined, JoinError>")]
pub struct Admit {
    pub conn: Conn,
    pub entry: Entry,
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

/// A message from a member's connection (anything but create/join/resume/leave).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Command {
    pub from: ConnId,
    pub msg: ClientMessage,
    /// When the frame arrived, for the relay latency histogram.
    pub received: std::time::Instant,
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

/// The relay is shutting down: stop (the connections tell their clients).
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

/// Why a member is leaving; decides what the others are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Departure {
    Left,
    Disconnected,
    Kicked,
}

impl Departure {
    pub(super) fn reason(self) -> &'static str {
        match self {
            Departure::Left => "left",
            Departure::Disconnected => "disconnected",
            Departure::Kicked => "kicked",
        }
    }
}
