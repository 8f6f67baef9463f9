//! What the relay sends: [`ServerMessage`], the borrowed [`Relayed`] frames for signaling, the
//! one [`Welcome`] behind `session_created` / `session_joined` / `session_resumed`, and the
//! frame builder every outbound text goes through.

use std::cell::RefCell;

use bytestring::ByteString;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::client::Opaque;
use super::errors::ErrorCode;
use super::views::{
    IcePath, IceServer, ParticipantView, QueuedTrack, ReactionKind, SessionView, TrackMeta,
};
use crate::familiar::Familiar;

/// A message the relay sends.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    SessionCreated {
        session: SessionView,
        your_user_id: String,
        ice_servers: Vec<IceServer>,
        resume_token: String,
    },
    SessionJoined {
        session: SessionView,
        your_user_id: String,
        your_peer_id: String,
        ice_servers: Vec<IceServer>,
        resume_token: String,
    },
    /// The answer to `resume`: the same shape as `session_joined`, with a fresh token.
    SessionResumed {
        session: SessionView,
        your_user_id: String,
        your_peer_id: String,
        ice_servers: Vec<IceServer>,
        resume_token: String,
        /// Set when the relay restarted since this member's `last_seq` (our addition): send
        /// `history` with the chat and reaction frames held whose `seq` is above this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        history_after: Option<u64>,
    },
    GuestJoined {
        user_id: String,
        username: String,
        peer_id: String,
        familiar: Familiar,
        participant_count: usize,
    },
    UserJoined {
        user: ParticipantView,
        participant_count: usize,
    },
    UserUpdated {
        user: ParticipantView,
    },
    PlaybackUpdate {
        track_id: Option<String>,
        is_playing: bool,
        position_ms: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        track_meta: Option<TrackMeta>,
        /// The host's queue after this track, as its last `playback` gave it (our addition).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        up_next: Option<Vec<QueuedTrack>>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        #[ts(as = "Option<bool>", optional)]
        heartbeat: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        seq: Option<u64>,
    },
    SyncResponse {
        track_id: Option<String>,
        is_playing: bool,
        position_ms: f64,
    },
    Chat {
        user_id: String,
        username: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        seq: Option<u64>,
        /// The sender's id for it, when it gave one (our addition).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        id: Option<String>,
        /// The relay's seal over this frame (our addition; always last): what lets members hand
        /// it back after a restart (`history`) without being able to forge one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        mac: Option<String>,
    },
    UserReaction {
        user_id: String,
        username: String,
        kind: ReactionKind,
        /// Milliseconds since the Unix epoch.
        timestamp: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        seq: Option<u64>,
        /// As for `chat`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        id: Option<String>,
        /// As for `chat`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        mac: Option<String>,
    },
    UserKicked {
        user_id: String,
        reason: String,
    },
    UserLeft {
        user_id: String,
        participant_count: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reason: Option<String>,
    },
    /// A member's socket dropped; it may come back within the grace period.
    UserAway {
        user_id: String,
    },
    /// A member that was away is back.
    UserBack {
        user_id: String,
    },
    /// The host's socket dropped; the session waits for it during the grace period.
    HostAway {
        user_id: String,
        #[ts(type = "number")]
        grace_ms: u64,
    },
    Left {},
    WebrtcCreateOffer {
        target_user_id: String,
        peer_id: String,
    },
    WebrtcOffer {
        #[ts(type = "unknown")]
        sdp: Opaque,
        from_user_id: String,
    },
    WebrtcAnswer {
        #[ts(type = "unknown")]
        sdp: Opaque,
        from_user_id: String,
    },
    WebrtcIce {
        #[ts(type = "unknown")]
        candidate: Opaque,
        from_user_id: String,
    },
    WebrtcStateChanged {
        user_id: String,
        connected: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        path: Option<IcePath>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        failed_stage: Option<String>,
    },
    /// The session is over (after the `user_left` with reason `host_left`).
    SessionEnded {
        reason: String,
    },
    /// A fresh resume token (the host gets one after each kick, so a kicked guest stays out even
    /// after a relay restart).
    TokenRefreshed {
        resume_token: String,
    },
    /// The relay is going down for a restart; come back after `retry_after_ms` (plus jitter).
    ServerRestarting {
        #[ts(type = "number")]
        retry_after_ms: u64,
        /// Spread reconnects evenly over this many milliseconds after `retry_after_ms`, so the
        /// relay takes them back at the rate it can (our addition; sized by the open sockets).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        retry_jitter_ms: Option<u64>,
    },
    Error {
        message: String,
        code: ErrorCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        retry_after_ms: Option<u64>,
    },
}

impl ServerMessage {
    /// An `error` frame for `code`, with the contract's wording.
    pub fn error(code: ErrorCode) -> Self {
        ServerMessage::Error {
            message: code.message(),
            code,
            retry_after_ms: None,
        }
    }

    /// An `error` frame that tells the client when to try again.
    pub fn error_retry(code: ErrorCode, retry_after_ms: u64) -> Self {
        ServerMessage::Error {
            message: code.message(),
            code,
            retry_after_ms: Some(retry_after_ms),
        }
    }

    /// Serializes once; the text is then shared by every recipient of a broadcast.
    pub fn to_text(&self) -> ByteString {
        frame_text(self)
    }
}

/// What the relay passes from peer to peer, borrowing the payload and the sender's id: the same
/// frames as [`ServerMessage::WebrtcOffer`], [`ServerMessage::WebrtcAnswer`] and
/// [`ServerMessage::WebrtcIce`] (a test holds them equal byte for byte), without building an
/// owned message for each one.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Relayed<'a> {
    WebrtcOffer {
        sdp: &'a Opaque,
        from_user_id: &'a str,
    },
    WebrtcAnswer {
        sdp: &'a Opaque,
        from_user_id: &'a str,
    },
    WebrtcIce {
        candidate: &'a Opaque,
        from_user_id: &'a str,
    },
}

impl Relayed<'_> {
    /// The frame's text.
    pub fn to_text(&self) -> ByteString {
        frame_text(self)
    }
}

/// Serializes a frame into this thread's scratch buffer, then copies it into a text of exactly
/// its size: one allocation per frame, where a `String` grows by reallocating and a `Bytes` made
/// from a buffer with spare capacity allocates a header besides.
fn frame_text<T: Serialize>(msg: &T) -> ByteString {
    thread_local! {
        static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    SCRATCH
        .try_with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buf) => write_frame(&mut buf, msg),
            Err(_) => write_frame(&mut Vec::new(), msg),
        })
        // The thread is exiting and its scratch buffer is gone.
        .unwrap_or_else(|_| write_frame(&mut Vec::new(), msg))
}

fn write_frame<T: Serialize>(buf: &mut Vec<u8>, msg: &T) -> ByteString {
    /// A scratch buffer that grew past this (a huge `session_joined`) is given back.
    const KEEP_BYTES: usize = 64 * 1024;
    buf.clear();
    serde_json::to_writer(&mut *buf, msg).expect("server frames serialize"); // ok: every field is a String, number, bool, serde_json::Value or raw JSON, none of which fail.
    let text = ByteString::from(std::str::from_utf8(buf).expect("serde_json writes UTF-8")); // ok: it writes only str fragments.
    if buf.capacity() > KEEP_BYTES {
        *buf = Vec::new();
    }
    text
}

/// Which welcome a member gets: the three share one shape (`session_created` has no peer id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WelcomeKind {
    /// `session_created`: the host of a new session.
    Created,
    /// `session_joined`: a guest or listener that just joined.
    Joined,
    /// `session_resumed`: a member back after a dropped socket or a restart.
    Resumed,
}

/// What every welcome says: the session, who you are, the ICE servers and your resume token.
pub struct Welcome {
    pub session: SessionView,
    pub your_user_id: String,
    pub ice_servers: Vec<IceServer>,
    pub resume_token: String,
    /// Only a `session_resumed` carries it.
    pub history_after: Option<u64>,
}

impl Welcome {
    /// The welcome message of `kind` (the peer id is the user id).
    pub fn into_message(self, kind: WelcomeKind) -> ServerMessage {
        let Welcome {
            session,
            your_user_id,
            ice_servers,
            resume_token,
            history_after,
        } = self;
        match kind {
            WelcomeKind::Created => ServerMessage::SessionCreated {
                session,
                your_user_id,
                ice_servers,
                resume_token,
            },
            WelcomeKind::Joined => ServerMessage::SessionJoined {
                session,
                your_peer_id: your_user_id.clone(),
                your_user_id,
                ice_servers,
                resume_token,
            },
            WelcomeKind::Resumed => ServerMessage::SessionResumed {
                session,
                your_peer_id: your_user_id.clone(),
                your_user_id,
                ice_servers,
                resume_token,
                history_after,
            },
        }
    }
}
