//! What the core sends to a connection, and how it holds one. A connection is only a
//! `Recipient<Outbound>` here, so every rule is testable with probe actors, no sockets.

use actix::prelude::*;
use bytestring::ByteString;

use crate::ids::{ConnId, SessionKey};

/// Why a socket is closed: the close frame's code and reason, and the label the
/// `sockets_closed` metric counts it under. Every close the relay makes is one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseWhy {
    pub code: u16,
    pub reason: &'static str,
    pub label: &'static str,
}

impl CloseWhy {
    /// The host kicked this member.
    pub const KICKED: CloseWhy = CloseWhy {
        code: 1000,
        reason: "kicked",
        label: "kicked",
    };
    /// The relay is going down; `server_restarting` went out just before.
    pub const RESTARTING: CloseWhy = CloseWhy {
        code: 1012,
        reason: "server restarting",
        label: "shutdown",
    };
    /// The same member resumed on another socket; this one is no longer it.
    pub const REPLACED: CloseWhy = CloseWhy {
        code: 4000,
        reason: "resumed elsewhere",
        label: "replaced",
    };
    /// The client kept sending past its rate limit.
    pub const FLOOD: CloseWhy = CloseWhy {
        code: 1008,
        reason: "rate limit exceeded",
        label: "flood",
    };
    /// A frame over the size limit.
    pub const TOO_BIG: CloseWhy = CloseWhy {
        code: 1009,
        reason: "frame too big",
        label: "too_big",
    };
    /// A WebSocket protocol violation.
    pub const PROTOCOL: CloseWhy = CloseWhy {
        code: 1002,
        reason: "protocol error",
        label: "protocol_error",
    };
    /// The socket was in no session and asked to enter none within the handshake window
    /// (`HANDSHAKE_TIMEOUT_MS`): after the upgrade, after leaving, or after its session ended.
    pub const HANDSHAKE_TIMEOUT: CloseWhy = CloseWhy {
        code: 4008,
        reason: "handshake timeout",
        label: "handshake_timeout",
    };
    /// A text frame (or fragmented text message) that is not UTF-8.
    pub const INVALID_TEXT: CloseWhy = CloseWhy {
        code: 1007,
        reason: "text is not utf-8",
        label: "invalid_text",
    };
    /// The peer stopped answering pings.
    pub const SILENT: CloseWhy = CloseWhy {
        code: 1001,
        reason: "no response to ping",
        label: "silent",
    };
}

/// What a session sends to a connection.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum Outbound {
    /// One text frame, already serialized.
    Frame(ByteString),
    /// Close the socket.
    Close(CloseWhy),
    /// The connection is no longer a member of session `key` (ended, left or replaced).
    Detached { key: SessionKey },
}

/// A connection as the core knows it: its id (to find its member) and where to send.
#[derive(Clone)]
pub struct Conn {
    pub id: ConnId,
    pub tx: Recipient<Outbound>,
}

impl Conn {
    pub fn send(&self, out: Outbound) {
        self.tx.do_send(out);
    }
}
