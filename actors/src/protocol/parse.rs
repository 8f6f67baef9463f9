//! Turning one text frame into a [`ClientMessage`], or into the precise [`ParseError`] the
//! client is told about. The hot types take a measured fast path (see [`parse_client_message`]).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

use super::client::{ClientMessage, CLIENT_TYPES};
use super::errors::ErrorCode;

/// Why a frame could not become a [`ClientMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON at all.
    BadJson,
    /// JSON, but not an object.
    NotObject,
    /// An object without a string `type`.
    MissingType,
    /// A `type` this relay does not know: ignored, never answered.
    UnknownType(String),
    /// A known `type` whose fields have the wrong shape.
    InvalidFields(&'static str),
}

impl ParseError {
    /// The `error` code the client gets; `None` for an unknown type, which is ignored.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            ParseError::BadJson => Some(ErrorCode::BadJson),
            ParseError::NotObject => Some(ErrorCode::NotObject),
            ParseError::MissingType => Some(ErrorCode::MissingType),
            ParseError::InvalidFields(_) => Some(ErrorCode::InvalidMessage),
            ParseError::UnknownType(_) => None,
        }
    }
}

/// Parses one text frame.
///
/// The frames whose payload the relay passes on verbatim (`webrtc_ice`, `webrtc_offer`,
/// `webrtc_answer`, by far the most frequent) take a fast path: a derived struct that borrows its strings and the opaque payload from
/// the frame (`HotFrame`), and one check of the whole frame. Every other frame, and any frame the fast
/// path is not sure of (a missing or duplicate field, a wrong shape, anything the slow path would
/// refuse), takes the slow path (`parse_slow`). The fast path accepts only what the slow
/// path accepts and yields the same message, so the slow path alone decides every error.
pub fn parse_client_message(text: &str) -> Result<ClientMessage, ParseError> {
    match parse_fast(text) {
        Some(msg) => Ok(msg),
        None => parse_slow(text),
    }
}

/// The fast path: `None` sends the frame to the slow path. serde_json borrows everything from the
/// text (the payloads as `&RawValue`, so they are relayed verbatim), then one walk of the whole
/// frame makes sure it holds nothing the slow path's [`Value`] would refuse.
fn parse_fast(text: &str) -> Option<ClientMessage> {
    // A derived struct would also read an array; the slow path refuses one.
    if !text.trim_start().starts_with('{') {
        return None;
    }
    // Only a frame that names a WebRTC type, or could spell one with escapes, is worth a try:
    // a refused attempt costs a serde error (as much as parsing a chat frame).
    if !text.contains("webrtc") && !text.contains('\\') {
        return None;
    }
    let frame: HotFrame = serde_json::from_str(text).ok()?;
    Check::FRAME
        .deserialize(&mut serde_json::Deserializer::from_str(text))
        .ok()?;
    frame.into_message()
}

/// A frame of one of the hot types, as serde derives it: the fields those types have, borrowed
/// from the text, present or not (`null` is present). Another `type`, a field given twice or a
/// `type` that is not a string makes deserializing fail, which sends the frame to the slow path.
#[derive(Deserialize)]
struct HotFrame<'a> {
    #[serde(rename = "type")]
    kind: HotKind,
    #[serde(default, borrow, deserialize_with = "raw")]
    target_user_id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "raw")]
    candidate: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "raw")]
    sdp: Option<&'a RawValue>,
}

/// The `type`s the fast path handles; any other stops the derive as soon as it is read. `chat`
/// is not one: it carries no payload to keep verbatim, and the tagged enum reads it faster than
/// this path does (see `bench/parse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HotKind {
    Ice,
    Offer,
    Answer,
}

/// By hand only for a cheap refusal: the derived one formats the list of variants into every
/// "unknown variant" error, which every `chat` and `playback` would pay.
impl<'de> Deserialize<'de> for HotKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KindVisitor;
        impl Visitor<'_> for KindVisitor {
            type Value = HotKind;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a relayed type")
            }
            fn visit_str<E: de::Error>(self, kind: &str) -> Result<HotKind, E> {
                match kind {
                    "webrtc_ice" => Ok(HotKind::Ice),
                    "webrtc_offer" => Ok(HotKind::Offer),
                    "webrtc_answer" => Ok(HotKind::Answer),
                    _ => Err(E::custom("not relayed")),
                }
            }
        }
        deserializer.deserialize_str(KindVisitor)
    }
}

/// A field that is there, `null` included.
fn raw<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// The string a raw JSON value holds, unescaped; `None` for any other value.
fn text_of(raw: &RawValue) -> Option<String> {
    raw.get()
        .starts_with('"')
        .then(|| serde_json::from_str::<Cow<str>>(raw.get()).ok())
        .flatten()
        .map(Cow::into_owned)
}

impl HotFrame<'_> {
    /// The message, with the slow path's defaults and leniency; `None` where the slow path would
    /// refuse the frame (a required field missing).
    fn into_message(self) -> Option<ClientMessage> {
        // `string_or_none` / `string_or_default`: anything but a string names no one.
        let target = self.target_user_id.and_then(text_of);
        Some(match self.kind {
            HotKind::Ice => ClientMessage::WebrtcIce {
                target_user_id: target,
                candidate: self.candidate?.into(),
            },
            HotKind::Offer => ClientMessage::WebrtcOffer {
                target_user_id: target.unwrap_or_default(),
                sdp: self.sdp?.into(),
            },
            HotKind::Answer => ClientMessage::WebrtcAnswer {
                sdp: self.sdp?.into(),
            },
        })
    }
}

/// The slow path, which defines the behaviour: straight into the tagged enum (serde buffers the
/// frame first to find `type`); only a failure pays for a second look to say precisely what was
/// wrong.
fn parse_slow(text: &str) -> Result<ClientMessage, ParseError> {
    // serde's tagged enum also reads an array (`["chat","hi"]`: the tag, then the fields in
    // order); a frame must be an object.
    if text.trim_start().starts_with('{') {
        if let Ok(msg) = serde_json::from_str::<ClientMessage>(text) {
            return Ok(msg);
        }
    }
    let value: Value = serde_json::from_str(text).map_err(|_| ParseError::BadJson)?;
    let object = value.as_object().ok_or(ParseError::NotObject)?;
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or(ParseError::MissingType)?;
    match CLIENT_TYPES.iter().find(|known| **known == kind) {
        Some(known) => Err(ParseError::InvalidFields(known)),
        None => Err(ParseError::UnknownType(kind.chars().take(40).collect())),
    }
}

/// Walks a JSON value without building it and fails wherever building a [`Value`] from the frame
/// would: the same number and string checks (it reads through the same `deserialize_any`) and
/// the same nesting limit, so the fast path refuses exactly what the slow path refuses.
/// `depth` counts the arrays and objects open around the value, the frame itself included.
#[derive(Debug, Clone, Copy)]
struct Check {
    depth: usize,
}

impl Check {
    /// The frame itself, inside nothing.
    const FRAME: Check = Check { depth: 0 };

    /// serde_json's recursion limit: parsing fails when a 128th array or object opens.
    const MAX_OPEN: usize = 127;

    /// The check for what is inside an array or object that opens here.
    fn open<E: de::Error>(self) -> Result<Check, E> {
        if self.depth >= Check::MAX_OPEN {
            return Err(E::custom("nested too deeply"));
        }
        Ok(Check {
            depth: self.depth + 1,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Check {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.open()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.open()?;
        while map.next_key_seed(inner)?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{MessageId, Opaque, Relayed, ServerMessage};
    use proptest::prelude::*;

    #[test]
    fn parses_join_guest_with_nulls() {
        let msg = parse_client_message(
            r#"{"type":"join_guest","code":"abc","guest_name":null,"password":null}"#,
        )
        .unwrap();
        match msg {
            ClientMessage::JoinGuest(f) => {
                assert_eq!(f.code, "abc");
                assert!(f.guest_name.is_none());
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn playback_distinguishes_absent_and_null_track() {
        let absent = parse_client_message(r#"{"type":"playback","is_playing":true}"#).unwrap();
        let null = parse_client_message(r#"{"type":"playback","track_id":null}"#).unwrap();
        assert!(matches!(
            absent,
            ClientMessage::Playback { track_id: None, .. }
        ));
        assert!(matches!(
            null,
            ClientMessage::Playback {
                track_id: Some(None),
                ..
            }
        ));
    }

    #[test]
    fn classifies_bad_frames() {
        let err = |text: &str| parse_client_message(text).err();
        assert_eq!(err("{"), Some(ParseError::BadJson));
        assert_eq!(err("[1]"), Some(ParseError::NotObject));
        // The tagged enum would read these as `create` and `chat` (found by AFL++).
        assert_eq!(err(r#"["create","us"]"#), Some(ParseError::NotObject));
        assert_eq!(err(r#" ["chat","hi"]"#), Some(ParseError::NotObject));
        assert_eq!(err(r#"{"a":1}"#), Some(ParseError::MissingType));
        assert_eq!(
            err(r#"{"type":"dance"}"#),
            Some(ParseError::UnknownType("dance".into()))
        );
        assert_eq!(
            err(r#"{"type":"chat","message":5}"#),
            Some(ParseError::InvalidFields("chat"))
        );
    }

    #[test]
    fn numeric_code_finds_nothing_instead_of_failing() {
        let msg = parse_client_message(r#"{"type":"join","code":12}"#).unwrap();
        assert!(matches!(msg, ClientMessage::Join(f) if f.code.is_empty()));
    }

    /// A parse result in a form that compares by meaning: the opaque payloads as JSON values
    /// (the fast path keeps their text verbatim, the slow path re-encodes it).
    fn canon(result: &Result<ClientMessage, ParseError>) -> Result<Value, ParseError> {
        let opaque = |o: &Opaque| serde_json::from_str::<Value>(o.get()).unwrap();
        let msg = result.as_ref().map_err(Clone::clone)?;
        Ok(match msg {
            ClientMessage::WebrtcIce {
                target_user_id,
                candidate,
            } => serde_json::json!(["ice", target_user_id, opaque(candidate)]),
            ClientMessage::WebrtcOffer {
                target_user_id,
                sdp,
            } => serde_json::json!(["offer", target_user_id, opaque(sdp)]),
            ClientMessage::WebrtcAnswer { sdp } => serde_json::json!(["answer", opaque(sdp)]),
            ClientMessage::Chat { message, id } => {
                serde_json::json!(["chat", message, id.as_ref().map(MessageId::as_str)])
            }
            other => Value::String(format!("{other:?}")),
        })
    }

    /// Asserts that `text` takes the fast path (or not) and that the outcome is the slow path's.
    fn agree(text: &str, fast: bool) -> Result<Value, ParseError> {
        assert_eq!(parse_fast(text).is_some(), fast, "fast path for {text}");
        let outcome = canon(&parse_client_message(text));
        assert_eq!(
            outcome,
            canon(&parse_slow(text)),
            "fast and slow differ on {text}"
        );
        outcome
    }

    #[test]
    fn fast_path_matches_the_slow_path_on_relay_frames() {
        let cand = r#"{"candidate":"candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host","sdpMid":"0","sdpMLineIndex":0}"#;
        let frames = [
            format!(r#"{{"type":"webrtc_ice","target_user_id":"u-1","candidate":{cand}}}"#),
            format!(r#"{{"type":"webrtc_ice","candidate":{cand}}}"#),
            // `type` last, extra fields of every shape, whitespace everywhere.
            format!(
                r#" {{ "candidate" : {cand} , "x" : [1, {{"y": null}}, "z"], "sdp": 5, "message": [], "type" : "webrtc_ice" }} "#
            ),
            r#"{"type":"webrtc_ice","candidate":null}"#.into(),
            r#"{"type":"webrtc_ice","target_user_id":null,"candidate":"c"}"#.into(),
            // A non-string target names no one.
            r#"{"type":"webrtc_ice","target_user_id":7,"candidate":"c"}"#.into(),
            r#"{"type":"webrtc_ice","target_user_id":{"id":"u-1"},"candidate":[1,2.5,-0,1E2]}"#.into(),
            // Escapes in the type, a key, the target and the payload.
            r#"{"type":"webrtc\u005fice","target_\u0075ser_id":"u\"1\u00fc","candidate":{"k":"a\nb\u00e9\ud83d\ude00"}}"#.into(),
            r#"{"type":"webrtc_offer","target_user_id":"u-2","sdp":{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}"#.into(),
            r#"{"type":"webrtc_offer","sdp":"raw"}"#.into(),
            r#"{"type":"webrtc_offer","target_user_id":false,"sdp":17,"candidate":{}}"#.into(),
            r#"{"type":"webrtc_answer","sdp":{"type":"answer","sdp":"v=0\r\n"},"target_user_id":"ignored"}"#.into(),
            r#"{"type":"webrtc_answer","sdp":null}"#.into(),
        ];
        for text in &frames {
            assert!(agree(text, true).is_ok(), "{text}");
        }
        let escaped = parse_client_message(&frames[7]).unwrap();
        let ClientMessage::WebrtcIce {
            target_user_id: Some(target),
            candidate,
        } = escaped
        else {
            panic!("unexpected {escaped:?}");
        };
        assert_eq!(target, "u\"1\u{fc}");
        assert_eq!(candidate.get(), r#"{"k":"a\nb\u00e9\ud83d\ude00"}"#);
        let ClientMessage::WebrtcIce { target_user_id, .. } =
            parse_client_message(&frames[5]).unwrap()
        else {
            panic!("not ice");
        };
        assert_eq!(target_user_id, None);
    }

    #[test]
    fn bad_fast_path_frames_get_the_slow_paths_error() {
        let invalid = |kind| Err(ParseError::InvalidFields(kind));
        let cases: &[(&str, Result<Value, ParseError>)] = &[
            (r#"{"type":"webrtc_ice"}"#, invalid("webrtc_ice")),
            (
                r#"{"type":"webrtc_ice","target_user_id":"u"}"#,
                invalid("webrtc_ice"),
            ),
            (
                r#"{"type":"webrtc_ice","candidate":1,"candidate":2}"#,
                invalid("webrtc_ice"),
            ),
            (
                r#"{"type":"webrtc_offer","target_user_id":"u"}"#,
                invalid("webrtc_offer"),
            ),
            (
                r#"{"type":"webrtc_answer","target_user_id":"u"}"#,
                invalid("webrtc_answer"),
            ),
            (r#"{"type":"chat","message":5}"#, invalid("chat")),
            (r#"{"type":"chat","message":null}"#, invalid("chat")),
            (
                r#"{"type":"chat","message":"a","message":"b"}"#,
                invalid("chat"),
            ),
            // `type` twice: serde refuses; the second look sees the last one.
            (
                r#"{"type":"webrtc_ice","type":"chat","candidate":1}"#,
                invalid("chat"),
            ),
            (r#"{"type":5,"candidate":1}"#, Err(ParseError::MissingType)),
            (
                r#"{"type":"webrtc_ice","candidate":1} x"#,
                Err(ParseError::BadJson),
            ),
            (
                r#"{"type":"webrtc_ice","candidate":}"#,
                Err(ParseError::BadJson),
            ),
            // What serde_json refuses to build as a value, the fast path refuses too, wherever
            // it is: a number out of range, a lone surrogate.
            (
                r#"{"type":"webrtc_ice","candidate":1e400}"#,
                Err(ParseError::BadJson),
            ),
            (
                r#"{"type":"webrtc_ice","candidate":{"a":[1e400]}}"#,
                Err(ParseError::BadJson),
            ),
            (
                r#"{"type":"webrtc_ice","candidate":1,"x":1e400}"#,
                Err(ParseError::BadJson),
            ),
            (
                r#"{"type":"webrtc_ice","candidate":1,"x":[1e400]}"#,
                Err(ParseError::BadJson),
            ),
            (
                r#"{"type":"webrtc_ice","candidate":"\ud800"}"#,
                Err(ParseError::BadJson),
            ),
            (
                r#"{"type":"webrtc_ice","candidate":{"\udc00":1}}"#,
                Err(ParseError::BadJson),
            ),
            (
                r#"{"type":"webrtc_ice","candidate":1,"target_user_id":"\ud800"}"#,
                Err(ParseError::BadJson),
            ),
            (
                r#"{"type":"webrtc_offer","sdp":1,"target_user_id":[1e999]}"#,
                Err(ParseError::BadJson),
            ),
            (
                r#"{"type":"chat","message":"\ud800x"}"#,
                Err(ParseError::BadJson),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&agree(text, false), expected, "{text}");
        }
    }

    #[test]
    fn fast_path_keeps_serde_jsons_nesting_limit() {
        for depth in 120..132 {
            let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            let wrapped = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
            for payload in [&nested, &wrapped] {
                // The frame itself is one level: 126 levels inside it are the most that parse.
                let ok = depth <= 126;
                for text in [
                    format!(r#"{{"type":"webrtc_ice","candidate":{payload}}}"#),
                    format!(r#"{{"type":"webrtc_answer","sdp":1,"x":{payload}}}"#),
                    format!(r#"{{"type":"webrtc_offer","sdp":1,"target_user_id":{payload}}}"#),
                ] {
                    let outcome = agree(&text, ok);
                    assert_eq!(outcome.is_ok(), ok, "depth {depth}");
                    if !ok {
                        assert_eq!(outcome, Err(ParseError::BadJson));
                    }
                }
            }
        }
    }

    #[test]
    fn other_types_take_the_slow_path() {
        for text in [
            r#"{"type":"join","code":12}"#,
            r#"{"type":"playback","track_id":null}"#,
            r#"{"type":"dance","candidate":1}"#,
            r#"{"candidate":1}"#,
            r#"[1]"#,
            r#"["webrtc_ice",null,1]"#,
            "{",
        ] {
            let _ = agree(text, false);
        }
        // Chat too (the tagged enum reads it faster), and every one of these parses.
        for text in [
            r#"{"type":"chat","message":"hi \u2764\n"}"#,
            r#"{"type":"chat"}"#,
            r#"{"message":"later","type":"chat","extra":{"a":[{}]}}"#,
        ] {
            assert!(agree(text, false).is_ok(), "{text}");
        }
    }

    #[test]
    fn opaque_is_relayed_byte_for_byte() {
        // Whitespace, escapes and number spellings a re-encoding would change.
        let raw = r#"{ "candidate" : "a\u0020b\/c", "n": [1.0, 1E2, -0, 12345678901234567890123], "u": "\u00fc" }"#;
        let text = format!(r#"{{"type":"webrtc_ice","candidate":{raw}}}"#);
        let ClientMessage::WebrtcIce { candidate, .. } = parse_client_message(&text).unwrap()
        else {
            panic!("not ice");
        };
        assert_eq!(candidate.get(), raw);
        let out = ServerMessage::WebrtcIce {
            candidate: candidate.clone(),
            from_user_id: "u-1".into(),
        }
        .to_text();
        assert_eq!(
            &*out,
            format!(r#"{{"type":"webrtc_ice","candidate":{raw},"from_user_id":"u-1"}}"#)
        );
        // The slow path's Opaque (through a Value) is the same JSON value, re-encoded.
        let slow: Opaque = serde_json::from_str(raw).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(slow.get()).unwrap(),
            serde_json::from_str::<Value>(raw).unwrap()
        );
        // And it survives a round trip through the server type.
        let back: ServerMessage = serde_json::from_str(&out).unwrap();
        let ServerMessage::WebrtcIce { candidate: c, .. } = &back else {
            panic!("not ice");
        };
        assert_eq!(
            serde_json::from_str::<Value>(c.get()).unwrap(),
            serde_json::from_str::<Value>(raw).unwrap()
        );
    }

    #[test]
    fn relayed_frames_equal_the_server_messages() {
        let payload =
            Opaque::from(RawValue::from_string(r#"{"a": [1, "\u00e9"]}"#.into()).unwrap());
        let from = "0b0e2d36-2b5e-4c39-9d0b-5f2f4a8e7c11";
        let pairs = [
            (
                Relayed::WebrtcOffer {
                    sdp: &payload,
                    from_user_id: from,
                },
                ServerMessage::WebrtcOffer {
                    sdp: payload.clone(),
                    from_user_id: from.into(),
                },
            ),
            (
                Relayed::WebrtcAnswer {
                    sdp: &payload,
                    from_user_id: from,
                },
                ServerMessage::WebrtcAnswer {
                    sdp: payload.clone(),
                    from_user_id: from.into(),
                },
            ),
            (
                Relayed::WebrtcIce {
                    candidate: &payload,
                    from_user_id: from,
                },
                ServerMessage::WebrtcIce {
                    candidate: payload.clone(),
                    from_user_id: from.into(),
                },
            ),
        ];
        for (relayed, message) in pairs {
            assert_eq!(relayed.to_text(), message.to_text());
        }
    }

    /// JSON texts for the property test, valid and not: escapes, lone surrogates, numbers out of
    /// range, nesting.
    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("-0".to_string()),
            Just("1.5E2".to_string()),
            Just("1e400".to_string()),
            Just("12345678901234567890123".to_string()),
            Just(r#""plain""#.to_string()),
            Just(r#""esc\"aped\u00fc\n""#.to_string()),
            Just(r#""\ud800""#.to_string()),
            Just(r#""webrtc_ice""#.to_string()),
            Just(r#""chat""#.to_string()),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                proptest::collection::vec((key(), inner), 0..4).prop_map(|fields| {
                    let fields: Vec<String> = fields
                        .into_iter()
                        .map(|(k, v)| format!("{k}:{v}"))
                        .collect();
                    format!("{{{}}}", fields.join(","))
                }),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#""type""#),
            Just(r#""t\u0079pe""#),
            Just(r#""target_user_id""#),
            Just(r#""candidate""#),
            Just(r#""sdp""#),
            Just(r#""message""#),
            Just(r#""x""#),
        ]
        .prop_map(String::from)
    }

    fn type_value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#""webrtc_ice""#),
            Just(r#""webrtc_offer""#),
            Just(r#""webrtc_answer""#),
            Just(r#""chat""#),
            Just(r#""webrtc\u005fice""#),
            Just(r#""join""#),
            Just(r#""dance""#),
            Just("5"),
        ]
        .prop_map(String::from)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever the frame, the fast path never changes the outcome.
        #[test]
        fn any_frame_parses_as_the_slow_path_would(
            kind in type_value(),
            type_at in 0usize..4,
            fields in proptest::collection::vec((key(), json_text()), 0..4),
            tail in prop_oneof![Just(""), Just(" "), Just("x")],
        ) {
            let mut fields: Vec<String> =
                fields.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
            fields.insert(type_at.min(fields.len()), format!(r#""type":{kind}"#));
            let text = format!("{{{}}}{tail}", fields.join(" , "));
            prop_assert_eq!(
                canon(&parse_client_message(&text)),
                canon(&parse_slow(&text)),
                "{}", text
            );
        }
    }
}
