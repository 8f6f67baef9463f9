//! What a client may send: [`ClientMessage`], tagged by `type` in snake_case. Lenient on
//! purpose: optional fields accept `null`, opaque payloads (`familiar`, `track_meta`) stay JSON
//! values until the session sanitizes them, so a sloppy client gets its message through rather
//! than an error. `sdp` and `candidate`, which the relay only passes on, stay the raw JSON text
//! they arrived as ([`Opaque`]).

use std::fmt;

use serde::de;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use ts_rs::TS;

use super::views::{IcePath, ReactionKind};

/// A message from a client, already parsed from one text frame.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Start a new session with the sender as its host.
    Create {
        #[serde(default)]
        #[ts(optional)]
        name: Option<String>,
        #[serde(default)]
        #[ts(optional)]
        username: Option<String>,
        #[serde(default)]
        #[ts(optional)]
        password: Option<String>,
        #[serde(default)]
        #[ts(optional, type = "FamiliarInput | null")]
        familiar: Option<Value>,
        /// What this client can do beyond the contract (our addition; old clients omit it).
        #[serde(default)]
        #[ts(as = "Option<Vec<Capability>>", optional)]
        capabilities: Capabilities,
    },
    /// Join as a `listener` (the Familiar app joining someone else's session).
    Join(JoinFields),
    /// Join as a `guest` (the guest web page).
    JoinGuest(JoinFields),
    /// Come back after a dropped socket or a relay restart with a `resume_token`.
    Resume {
        token: String,
        /// The highest `seq` this client saw; what came after it is replayed.
        #[serde(default)]
        #[ts(optional, type = "number")]
        last_seq: Option<u64>,
    },
    UpdateFamiliar {
        #[serde(default)]
        #[ts(optional, type = "FamiliarInput | null")]
        familiar: Option<Value>,
    },
    Playback {
        /// Absent: keep the stored value; `null`: no track.
        #[serde(default, deserialize_with = "present")]
        #[ts(optional, type = "string | null")]
        track_id: Option<Option<String>>,
        #[serde(default)]
        #[ts(optional)]
        is_playing: Option<bool>,
        #[serde(default)]
        #[ts(optional)]
        position_ms: Option<f64>,
        #[serde(default)]
        #[ts(optional, type = "TrackMeta | null")]
        track_meta: Option<Value>,
        /// What the host queued after this track (our addition; sanitized by the session).
        #[serde(default)]
        #[ts(optional, type = "Array<QueuedTrack> | null")]
        up_next: Option<Value>,
    },
    SyncRequest {},
    Chat {
        #[serde(default)]
        message: String,
        /// The client's own id for this chat, so a copy re-sent after a reconnect or a relay
        /// restart is recognised (our addition; see [`MessageId`]).
        #[serde(default)]
        #[ts(optional, as = "Option<String>")]
        id: Option<MessageId>,
    },
    Reaction {
        /// Anything but one of the four kinds (a number, null) is ignored, never an error.
        #[serde(default, deserialize_with = "reaction_kind")]
        #[ts(type = "ReactionKind")]
        kind: Option<ReactionKind>,
        /// As for `chat`.
        #[serde(default)]
        #[ts(optional, as = "Option<String>")]
        id: Option<MessageId>,
    },
    /// After a `session_resumed` that asked for it (`history_after`): the chat and reaction
    /// frames this member holds from before the relay restarted, exactly as it received them,
    /// so the relay can give them to members who missed them (our addition).
    History {
        #[serde(default)]
        entries: Vec<String>,
    },
    Kick {
        #[serde(default, deserialize_with = "string_or_default")]
        target_user_id: String,
    },
    Leave {},
    WebrtcRequest {},
    WebrtcOffer {
        #[serde(default, deserialize_with = "string_or_default")]
        target_user_id: String,
        #[ts(type = "unknown")]
        sdp: Opaque,
    },
    WebrtcAnswer {
        #[ts(type = "unknown")]
        sdp: Opaque,
    },
    WebrtcIce {
        #[serde(default, deserialize_with = "string_or_none")]
        #[ts(optional)]
        target_user_id: Option<String>,
        #[ts(type = "unknown")]
        candidate: Opaque,
    },
    WebrtcConnected {
        #[serde(default)]
        connected: bool,
        /// How the audio connected (our addition; old clients omit it).
        #[serde(default)]
        #[ts(optional)]
        path: Option<IcePath>,
        /// Where the connection failed, when `connected` is false (our addition).
        #[serde(default)]
        #[ts(optional)]
        failed_stage: Option<String>,
    },
}

/// A JSON value the relay passes on without looking inside (`sdp`, `candidate`): kept as the
/// exact text it arrived as and written out verbatim, so relaying it costs one copy instead of a
/// parse into a tree and a re-encoding.
///
/// It deserializes from any deserializer, through a [`Value`] (so the derived, tagged
/// [`ClientMessage`] still works, as the slow path); [`super::parse_client_message`]'s fast path takes
/// the text straight from the frame instead. Either way it is valid JSON.
#[derive(Clone)]
pub struct Opaque(Box<RawValue>);

impl Opaque {
    /// The JSON text, as received.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl From<&RawValue> for Opaque {
    fn from(raw: &RawValue) -> Self {
        Opaque(raw.to_owned())
    }
}

impl From<Box<RawValue>> for Opaque {
    fn from(raw: Box<RawValue>) -> Self {
        Opaque(raw)
    }
}

impl fmt::Debug for Opaque {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Opaque({})", self.get())
    }
}

impl Serialize for Opaque {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Opaque {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        serde_json::value::to_raw_value(&value)
            .map(Opaque)
            .map_err(de::Error::custom)
    }
}

/// A client-chosen id on `chat` / `reaction`: 1 to [`MessageId::MAX_LEN`] characters of
/// `A–Z a–z 0–9 _ -`. Anything else is refused with `invalid_message` (a client that sends an id
/// relies on it, so dropping it silently would hide the mistake).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct MessageId(String);

impl MessageId {
    /// Enough for a UUID or 128 random bits in any common text form.
    pub const MAX_LEN: usize = 64;

    /// The id, if `text` is a valid one.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = (1..=Self::MAX_LEN).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        valid.then(|| MessageId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for MessageId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        MessageId::parse(&text).ok_or_else(|| de::Error::custom("not a message id"))
    }
}

/// Fields shared by `join` and `join_guest`.
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct JoinFields {
    #[serde(default, deserialize_with = "string_or_default")]
    pub code: String,
    #[serde(default)]
    #[ts(optional)]
    pub guest_name: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub username: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub password: Option<String>,
    #[serde(default)]
    #[ts(optional, type = "FamiliarInput | null")]
    pub familiar: Option<Value>,
    /// What this client can do beyond the contract (our addition; old clients omit it).
    #[serde(default)]
    #[ts(as = "Option<Vec<Capability>>", optional)]
    pub capabilities: Capabilities,
}

/// A capability a client declares on `create` / `join` / `join_guest`, as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// The client reconnects after a dropped socket and sends `resume`: only such a member is
    /// kept as away for the grace period. Without it a drop is a departure, as the contract says.
    Resume,
}

/// The capabilities a client declared. Lenient like every inbound field: anything but an array
/// of strings, and any string we do not know, declares nothing (a client never gets an error
/// for it), so clients may list capabilities of newer relays.

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Declared [`Capability::Resume`].
    pub resume: bool,
}

impl<'de> Deserialize<'de> for Capabilities {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let declared = match Value::deserialize(deserializer)? {
            Value::Array(items) => items,
            _ => Vec::new(),
        };
        Ok(Capabilities {
            resume: declared.iter().any(|c| c.as_str() == Some("resume")),
        })
    }
}

impl ClientMessage {
    /// The wire name of this message's `type`, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMessage::Create { .. } => "create",
            ClientMessage::Join(_) => "join",
            ClientMessage::JoinGuest(_) => "join_guest",
            ClientMessage::Resume { .. } => "resume",
            ClientMessage::UpdateFamiliar { .. } => "update_familiar",
            ClientMessage::Playback { .. } => "playback",
            ClientMessage::SyncRequest {} => "sync_request",
            ClientMessage::Chat { .. } => "chat",
            ClientMessage::Reaction { .. } => "reaction",
            ClientMessage::History { .. } => "history",
            ClientMessage::Kick { .. } => "kick",
            ClientMessage::Leave {} => "leave",
            ClientMessage::WebrtcRequest {} => "webrtc_request",
            ClientMessage::WebrtcOffer { .. } => "webrtc_offer",
            ClientMessage::WebrtcAnswer { .. } => "webrtc_answer",
            ClientMessage::WebrtcIce { .. } => "webrtc_ice",
            ClientMessage::WebrtcConnected { .. } => "webrtc_connected",
        }
    }
}

/// Every `type` a client may send, so the connection can tell "unknown type" (ignored) from
/// "known type with bad fields" (an error).
/// A test holds it equal to the `type`s of the generated TypeScript union (and so to the
/// serde names and [`ClientMessage::kind`]).
pub const CLIENT_TYPES: &[&str] = &[
    "create",
    "join",
    "join_guest",
    "resume",
    "update_familiar",
    "playback",
    "sync_request",
    "chat",
    "reaction",
    "history",
    "kick",
    "leave",
    "webrtc_request",
    "webrtc_offer",
    "webrtc_answer",
    "webrtc_ice",
    "webrtc_connected",
];

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Accepts a string; anything else (a number, null) becomes the empty string, which finds no
/// session, exactly as the original service behaved.
fn string_or_default<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => s,
        _ => String::new(),
    })
}

/// Accepts a string; anything else is treated as absent (a target that names no one).
fn string_or_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// One of the four reaction kinds; anything else (another word, a number, null) is `None`, which
/// the session ignores without an error.
fn reaction_kind<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ReactionKind>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(deserializer)?).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `CLIENT_TYPES`, the serde names (as the generated TypeScript shows them) and `kind()` are
    /// one list: a new variant missing from any of them fails here.
    #[test]
    fn client_types_are_the_wire_names_and_kinds() {
        let decl = ClientMessage::decl();
        let mut generated: Vec<&str> = decl
            .split("\"type\": \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        generated.sort_unstable();
        let mut listed = CLIENT_TYPES.to_vec();
        listed.sort_unstable();
        assert_eq!(generated, listed);
        for kind in CLIENT_TYPES {
            // Every required field of every type, so each one parses.
            let text = format!(r#"{{"type":"{kind}","token":"t","sdp":1,"candidate":1}}"#);
            let msg = serde_json::from_str::<ClientMessage>(&text).expect("parses");
            assert_eq!(msg.kind(), *kind);
        }
    }
}
