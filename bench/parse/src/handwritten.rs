//! The relay's hand-written fast path as it was at commit 0395d9e (365 lines: a serde visitor per
//! field kind), kept here only to be measured beside the derived one that replaced it.
#![allow(dead_code)]

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

use familiar_actors::protocol::{ClientMessage, ErrorCode, CLIENT_TYPES};

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
/// The frames the relay carries by the thousand (`webrtc_ice`, `webrtc_offer`, `webrtc_answer`,
/// `chat`) take a fast path: one pass over the text into a plain struct that borrows its strings
/// and the opaque payload from the frame (`FastFrame`). Every other frame, and any frame the fast
/// path is not sure of (a missing or duplicate field, a wrong shape, anything the slow path would
/// refuse), takes the slow path (`parse_slow`). The fast path accepts only what the slow
/// path accepts and yields the same message, so the slow path alone decides every error.
pub fn parse_client_message(text: &str) -> Result<ClientMessage, ParseError> {
    match parse_fast(text) {
        Some(msg) => Ok(msg),
        None => parse_slow(text),
    }
}

/// The fast path: `None` sends the frame to the slow path.
fn parse_fast(text: &str) -> Option<ClientMessage> {
    serde_json::from_str::<FastFrame>(text).ok()?.into_message()
}

/// The slow path, which defines the behaviour: straight into the tagged enum (serde buffers the
/// frame first to find `type`); only a failure pays for a second look to say precisely what was
/// wrong.
fn parse_slow(text: &str) -> Result<ClientMessage, ParseError> {
    if let Ok(msg) = serde_json::from_str::<ClientMessage>(text) {
        return Ok(msg);
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

/// A frame of one of the fast-path types, as [`parse_fast`] reads it: the fields those types have,
/// borrowed from the text. Every other field is checked the way the slow path would check it (see
/// [`Check`]) and skipped. Any `type` but the four, a field given twice, or a `type` that is not a
/// string makes deserializing fail, which sends the frame to the slow path.
#[derive(Default)]
struct FastFrame<'a> {
    kind: Option<FastKind>,
    target_user_id: Option<Scalar<'a>>,
    candidate: Option<&'a RawValue>,
    sdp: Option<&'a RawValue>,
    message: Option<Scalar<'a>>,
}

/// The `type`s the fast path handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FastKind {
    Ice,
    Offer,
    Answer,
    Chat,
}

impl FastKind {
    fn of(kind: &str) -> Option<Self> {
        match kind {
            "webrtc_ice" => Some(FastKind::Ice),
            "webrtc_offer" => Some(FastKind::Offer),
            "webrtc_answer" => Some(FastKind::Answer),
            "chat" => Some(FastKind::Chat),
            _ => None,
        }
    }
}

impl FastFrame<'_> {
    /// The message, with the slow path's defaults and leniency; `None` where the slow path would
    /// refuse the frame (a required field missing, a `message` that is not a string).
    fn into_message(self) -> Option<ClientMessage> {
        Some(match self.kind? {
            // `string_or_none`: anything but a string names no one.
            FastKind::Ice => ClientMessage::WebrtcIce {
                target_user_id: self.target_user_id.and_then(Scalar::into_string),
                candidate: self.candidate?.into(),
            },
            // `string_or_default`: anything but a string (or nothing) is the empty string.
            FastKind::Offer => ClientMessage::WebrtcOffer {
                target_user_id: self
                    .target_user_id
                    .and_then(Scalar::into_string)
                    .unwrap_or_default(),
                sdp: self.sdp?.into(),
            },
            FastKind::Answer => ClientMessage::WebrtcAnswer {
                sdp: self.sdp?.into(),
            },
            // A plain `String` with a default: absent is empty, anything but a string an error.
            FastKind::Chat => ClientMessage::Chat {
                message: match self.message {
                    None => String::new(),
                    Some(message) => message.into_string()?,
                },
            },
        })
    }
}

/// Which field of a frame a key names (keys are compared unescaped, as serde does).
enum Field {
    Type,
    TargetUserId,
    Candidate,
    Sdp,
    Message,
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Field, E> {
                Ok(match key {
                    "type" => Field::Type,
                    "target_user_id" => Field::TargetUserId,
                    "candidate" => Field::Candidate,
                    "sdp" => Field::Sdp,
                    "message" => Field::Message,
                    _ => Field::Other,
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Deserialize<'de> for FastFrame<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FrameVisitor;
        impl<'de> Visitor<'de> for FrameVisitor {
            type Value = FastFrame<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FastFrame<'de>, A::Error> {
                let mut frame = FastFrame::default();
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::Type => {
                            // Any other type stops here, before the rest of the frame is read.
                            let kind = match map.next_value::<Scalar>()? {
                                Scalar::Str(kind) => FastKind::of(&kind),
                                Scalar::Other => None,
                            };
                            let kind = kind.ok_or_else(|| de::Error::custom("not a fast type"))?;
                            fill(&mut frame.kind, kind)?;
                        }
                        Field::TargetUserId => fill(&mut frame.target_user_id, map.next_value()?)?,
                        Field::Candidate => {
                            fill(&mut frame.candidate, checked(map.next_value()?)?)?
                        }
                        Field::Sdp => fill(&mut frame.sdp, checked(map.next_value()?)?)?,
                        Field::Message => fill(&mut frame.message, map.next_value()?)?,
                        Field::Other => map.next_value_seed(Check::FIELD)?,
                    }
                }
                Ok(frame)
            }
        }
        deserializer.deserialize_map(FrameVisitor)
    }
}

/// Sets a field seen for the first time; a second sighting is left to the slow path, which
/// refuses some duplicates and ignores others.
fn fill<T, E: de::Error>(slot: &mut Option<T>, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::custom("duplicate field"));
    }
    *slot = Some(value);
    Ok(())
}

/// A raw value borrowed from a top-level field, after the checks the slow path would make on it
/// (skipping it as raw text checks only the JSON syntax).
fn checked<E: de::Error>(raw: &RawValue) -> Result<&RawValue, E> {
    Check::FIELD
        .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
        .map_err(E::custom)?;
    Ok(raw)
}

/// A field the slow path reads as a string (leniently or not): a string, or anything else
/// (checked, then forgotten).
enum Scalar<'a> {
    Str(Cow<'a, str>),
    Other,
}

impl Scalar<'_> {
    fn into_string(self) -> Option<String> {
        match self {
            Scalar::Str(s) => Some(s.into_owned()),
            Scalar::Other => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            // A string with escapes, unescaped into serde_json's scratch buffer.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
                Check::FIELD.visit_seq(seq).map(|()| Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
                Check::FIELD.visit_map(map).map(|()| Scalar::Other)
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
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
    /// A top-level field of the frame: inside one object.
    const FIELD: Check = Check { depth: 1 };

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

