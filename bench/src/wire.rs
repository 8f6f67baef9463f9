//! The messages the bench sends and the few fields it reads back, written from
//! `shared/PROTOCOL.md` rather than borrowed from `familiar-actors`, so the bench sees the wire
//! exactly as an independent client does.
//!
//! Reading is zero-copy where it matters: [`Inbound`] borrows its strings from the frame, and
//! an ICE candidate is read only for the `seq` and `ts` the bench itself put there.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A message to the relay.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outbound<'a> {
    Create {
        name: &'a str,
        username: &'a str,
        /// `["resume"]` for a client that resumes, as our pages do; empty (left out) for one that
        /// behaves as the Familiar app does.
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        capabilities: &'a [&'a str],
    },
    JoinGuest {
        code: &'a str,
        guest_name: &'a str,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        capabilities: &'a [&'a str],
    },
    /// Back in the session after a dropped socket or a relay restart.
    Resume {
        token: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_seq: Option<u64>,
    },
    WebrtcRequest {},
    WebrtcOffer {
        target_user_id: &'a str,
        sdp: Sdp<'a>,
    },
    WebrtcAnswer {
        sdp: Sdp<'a>,
    },
    WebrtcIce {
        #[serde(skip_serializing_if = "Option::is_none")]
        target_user_id: Option<&'a str>,
        candidate: Candidate<'a>,
    },
    Chat {
        message: &'a str,
        /// The sender's own id for it, as our pages send one, so a copy re-sent after a
        /// reconnect is recognised; absent, as the Familiar app sends it.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
    },
    /// After a `session_resumed` with `history_after`: the chat frames held, as received.
    History {
        entries: &'a [&'a str],
    },
    /// Sent before closing, as the host app does, so the relay frees the seat at once
    /// instead of keeping it through its resume grace period.
    Leave {},
}

impl Outbound<'_> {
    /// The frame's text.
    pub fn text(&self) -> String {
        serde_json::to_string(self).expect("outbound message serializes") // ok: only strings, integers and structs of them, which serde_json always serializes
    }
}

/// An `RTCSessionDescriptionInit`, as a browser sends it.
#[derive(Debug, Serialize)]
pub struct Sdp<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub sdp: &'a str,
}

/// An `RTCIceCandidateInit` as a browser sends it, plus the bench's own `seq` and `ts`, which a
/// relay must pass through untouched (`candidate` is opaque on the wire).
#[derive(Debug, Serialize)]
pub struct Candidate<'a> {
    pub candidate: &'a str,
    #[serde(rename = "sdpMid")]
    pub sdp_mid: &'a str,
    #[serde(rename = "sdpMLineIndex")]
    pub sdp_m_line_index: u32,
    #[serde(rename = "usernameFragment")]
    pub username_fragment: &'a str,
    /// Counts up per (sender, target), so a receiver sees loss, duplicates and reordering.
    pub seq: u64,
    /// Send time, nanoseconds since the process's clock base ([`crate::system::now_ns`]).
    pub ts: u64,
}

/// A typical server-reflexive candidate line (documentation addresses only): ICE-sized.
pub const CANDIDATE_LINE: &str = "candidate:842163049 1 udp 1677729535 198.51.100.23 54321 typ srflx raddr 192.0.2.10 rport 54321 generation 0 ufrag 8Zq1 network-id 1 network-cost 10";

/// A host's `webrtc_ice` to one guest, made from a prefix serialized once: serde_json would
/// otherwise escape the same candidate line for each of 550,000 messages, CPU that the relay
/// on the same two cores then lacks. [`IceTemplate::text`] equals [`Outbound::WebrtcIce`]'s.
pub struct IceTemplate {
    /// Everything up to and including `"seq":`.
    prefix: String,
}

impl IceTemplate {
    /// The template for candidates to `target`.
    pub fn new(target: &str) -> Self {
        let mut prefix = ice(Some(target), 0, 0).text();
        // The candidate's last fields are `"seq":0,"ts":0}` and the message closes after it.
        let cut = prefix.rfind("\"seq\":").map_or(prefix.len(), |at| at + 6);
        prefix.truncate(cut);
        IceTemplate { prefix }
    }

    /// The message with `seq` and `ts` filled in.
    pub fn text(&self, seq: u64, ts: u64) -> String {
        use std::fmt::Write;
        let mut text = String::with_capacity(self.prefix.len() + 48);
        text.push_str(&self.prefix);
        let _ = write!(text, "{seq},\"ts\":{ts}}}}}"); // writing to a String cannot fail
        text
    }
}

/// A browser-like candidate message (`target` set by a host, absent from a guest).
pub fn ice(target: Option<&str>, seq: u64, ts: u64) -> Outbound<'_> {
    Outbound::WebrtcIce {
        target_user_id: target,
        candidate: Candidate {
            candidate: CANDIDATE_LINE,
            sdp_mid: "0",
            sdp_m_line_index: 0,
            username_fragment: "8Zq1",
            seq,
            ts,
        },
    }
}

/// The fields of any relay message the bench looks at; everything else is skipped unread.
#[derive(Debug, Deserialize)]
pub struct Inbound<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// In `session_created` / `session_joined`.
    #[serde(default)]
    pub session: Option<SessionRef>,
    #[serde(default, borrow)]
    pub your_user_id: Option<Cow<'a, str>>,
    /// In `guest_joined`, `chat`, `user_left`.
    #[serde(default, borrow)]
    pub user_id: Option<Cow<'a, str>>,
    /// In `webrtc_create_offer`.
    #[serde(default, borrow)]
    pub target_user_id: Option<Cow<'a, str>>,
    /// In `webrtc_offer`, `webrtc_answer`, `webrtc_ice`.
    #[serde(default, borrow)]
    pub from_user_id: Option<Cow<'a, str>>,
    /// The text of a `chat`, or of an `error`.
    #[serde(default, borrow)]
    pub message: Option<Cow<'a, str>>,
    /// The machine-readable code beside an `error`'s message (our relay's addition).
    #[serde(default)]
    pub code: Option<Value>,
    /// In `webrtc_ice`: only the bench's own fields are read.
    #[serde(default)]
    pub candidate: Option<CandidateProbe>,
    /// In welcomes and `token_refreshed`.
    #[serde(default, borrow)]
    pub resume_token: Option<Cow<'a, str>>,
    /// The sequence number of a `chat`, `user_reaction` or `playback_update`.
    #[serde(default)]
    pub seq: Option<u64>,
    /// In `server_restarting`, and beside some `error`s.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// In `server_restarting`: spread the reconnect over this many ms.
    #[serde(default)]
    pub retry_jitter_ms: Option<u64>,
    /// In `chat`: the sender's id for it.
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    /// In `session_resumed` after a restart: hand back the chats held above this `seq`.
    #[serde(default)]
    pub history_after: Option<u64>,
}

/// The part of `session` the bench needs.
#[derive(Debug, Deserialize)]
pub struct SessionRef {
    pub code: String,
    /// The latest sequence number handed out: a fresh member's `last_seq`.
    #[serde(default)]
    pub seq: Option<u64>,
}

/// `seq` and `ts` inside a relayed candidate.
#[derive(Debug, Deserialize)]
pub struct CandidateProbe {
    #[serde(default)]
    pub seq: Option<u64>,
    #[serde(default)]
    pub ts: Option<u64>,
}

/// Reads one text frame. A frame the bench cannot read is counted by the caller, never fatal.
pub fn parse(text: &str) -> Result<Inbound<'_>, serde_json::Error> {
    serde_json::from_str(text)
}

impl Inbound<'_> {
    /// How an `error` frame is counted: `error:<code>`, or `error:<message>` from a relay that
    /// sends no code.
    pub fn error_label(&self) -> String {
        match (&self.code, &self.message) {
            (Some(Value::String(code)), _) => format!("error:{code}"),
            (_, Some(message)) => format!("error:{message}"),
            _ => "error:?".to_owned(),
        }
    }
}

/// A fake SDP of about `bytes` bytes, shaped like a browser's (CRLF lines, candidates).
pub fn fake_sdp(kind: &str, bytes: usize) -> String {
    let mut sdp = format!(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
         a=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS bench\r\n\
         m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n\
         a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:8Zq1\r\na=ice-pwd:bench{kind}pwd0123456789abcdef\r\n\
         a=ice-options:trickle\r\na=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:\
         DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\na=setup:actpass\r\na=mid:0\r\n\
         a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    );
    let mut n = 0;
    while sdp.len() < bytes {
        sdp.push_str(&format!(
            "a=extmap:{n} urn:ietf:params:rtp-hdrext:bench-padding-{n}\r\n"
        ));
        n += 1;
    }
    sdp.truncate(bytes);
    sdp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ice_template_matches_serde() {
        let template = IceTemplate::new("a\"b-uuid");
        assert_eq!(
            template.text(17, 123_456_789),
            ice(Some("a\"b-uuid"), 17, 123_456_789).text()
        );
    }

    #[test]
    fn reads_relayed_candidate() -> Result<(), serde_json::Error> {
        let text = r#"{"type":"webrtc_ice","candidate":{"candidate":"x","seq":3,"ts":9},"from_user_id":"h"}"#;
        let msg = parse(text)?;
        assert_eq!(msg.kind, "webrtc_ice");
        let probe = msg.candidate.as_ref().map(|p| (p.seq, p.ts));
        assert_eq!(probe, Some((Some(3), Some(9))));
        assert_eq!(msg.from_user_id.as_deref(), Some("h"));
        Ok(())
    }

    #[test]
    fn labels_errors_by_code_then_message() -> Result<(), serde_json::Error> {
        let coded =
            parse(r#"{"type":"error","message":"Session not found","code":"session_not_found"}"#)?;
        assert_eq!(coded.error_label(), "error:session_not_found");
        let bare = parse(r#"{"type":"error","message":"Session not found"}"#)?;
        assert_eq!(bare.error_label(), "error:Session not found");
        Ok(())
    }

    #[test]
    fn fake_sdp_has_the_asked_size() {
        assert_eq!(fake_sdp("offer", 3000).len(), 3000);
        assert!(fake_sdp("offer", 3000).starts_with("v=0\r\n"));
    }
}
