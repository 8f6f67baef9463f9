//! The shapes inside server messages: participants, the session, playback, ICE servers, and
//! the small enums (roles, ICE paths, reaction kinds) both directions share.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::familiar::Familiar;

/// How a guest's audio connection was made, as the guest's peer connection reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IcePath {
    Direct,
    Stun,
    Turn,
}

/// A participant's role in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Host,
    Listener,
    Guest,
}

/// One STUN or TURN server for `RTCPeerConnection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct IceServer {
    #[ts(type = "string | string[]")]
    pub urls: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub credential: Option<String>,
}

/// A member of a session as every client sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ParticipantView {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    pub familiar: Familiar,
    /// RFC 3339, UTC.
    pub joined_at: String,
    pub webrtc_connected: bool,
    /// How this member's audio connected, once it reported (our addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ice_path: Option<IcePath>,
    /// True while the member's socket is down within the grace period (our addition).
    #[serde(default)]
    pub away: bool,
}

/// The playback triple every client tracks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PlaybackState {
    pub track_id: Option<String>,
    pub is_playing: bool,
    pub position_ms: f64,
}

/// What a `playback` may say about the track, limited to these four keys.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
pub struct TrackMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub artist: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub album: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub bpm: Option<f64>,
}

/// One track the host queued after the current one, for "up next" (our addition): what a
/// `playback`'s `up_next` may say about it, limited to these three keys.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
pub struct QueuedTrack {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub artist: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub album: Option<String>,
}

/// The session as its members see it in `session_created` / `session_joined`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SessionView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub host_id: String,
    pub created_at: String,
    pub participant_count: usize,
    pub webrtc_enabled: bool,
    pub has_password: bool,
    pub playback_state: PlaybackState,
    /// The last `track_meta` the host sent, so a late joiner sees the title at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub track_meta: Option<TrackMeta>,
    /// The last `up_next` the host sent (our addition), so a late joiner sees the queue at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub up_next: Option<Vec<QueuedTrack>>,
    /// Host first, then in join order.
    pub participants: Vec<ParticipantView>,
    /// The session's latest sequence number: a client that has seen nothing yet resumes with
    /// this as its `last_seq` (our addition).
    #[ts(type = "number")]
    pub seq: u64,
}

/// The public face of a session, for `GET /api/v1/sessions/by-code/{code}`. Never carries
/// participants, ids, playback, ICE servers or anything derived from the password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PublicSession {
    pub code: String,
    pub name: String,
    pub participant_count: usize,
    pub has_password: bool,
    /// Whether this relay hands out TURN servers, so the guest page can explain ICE failures.
    pub turn_available: bool,
}

/// The four reactions a member may send (anything else is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReactionKind {
    Cheer,
    Pulse,
    Wave,
    Spark,
}

impl IcePath {
    /// The wire name, for metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            IcePath::Direct => "direct",
            IcePath::Stun => "stun",
            IcePath::Turn => "turn",
        }
    }
}
