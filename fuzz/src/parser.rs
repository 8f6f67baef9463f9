//! Target `parser`: `familiar_actors::protocol::parse_client_message`, the fast parser, on
//! seed frames mutated JSON-aware or as text, and on arbitrary text.
//!
//! Checked on every input, against serde_json's plain `Value` reading of the same text:
//! - it never panics;
//! - text serde_json refuses as JSON is `Err(BadJson)`; JSON that is not an object is
//!   `NotObject`; an object without a string `type` is `MissingType`;
//! - every `Err` is a clear error (`error_code()` is a code with a message) or the documented
//!   ignore: `UnknownType`, only for a `type` that is not in `CLIENT_TYPES`;
//! - the outcome equals the slow path's (serde's derived, tagged enum), the fast path included:
//!   same message, same error; a message's `kind()` is the frame's `type`;
//! - a relayed payload (`sdp`, `candidate`) is the very JSON value the frame carried, and the
//!   ICE/offer target is the frame's `target_user_id` when that is a string.

use std::time::Instant;

use familiar_actors::protocol::{parse_client_message, ClientMessage, ParseError, CLIENT_TYPES};
use serde_json::Value;

use crate::mutate::{mutate_json, mutate_text, random_text, random_value};
use crate::report::{guard, show, Report};
use crate::rng::Rng;
use crate::seeds::corpus;

/// Runs `inputs` frames from `seed`.
pub fn run(inputs: u64, seed: u64) -> Report {
    let mut report = Report::new("parser", "text frames");
    let frames = &corpus().frames;
    let started = Instant::now();
    for n in 0..inputs {
        let mut rng = Rng::for_input(seed, n);
        let text = frame(&mut rng, frames);
        match guard(|| check(&text)) {
            Ok(Ok(kind)) => report.saw(kind),
            Ok(Err(what)) => report.fail(format!("input {n} {:?}: {what}", show(text.as_bytes()))),
            Err(panic) => {
                report.panics += 1;
                report.fail(format!(
                    "input {n} {:?}: panic: {panic}",
                    show(text.as_bytes())
                ));
            }
        }
        report.inputs += 1;
    }
    report.elapsed = started.elapsed();
    report
}

/// One input: mostly a mutated seed frame, sometimes a seed as is, or anything at all.
pub fn frame(rng: &mut Rng, frames: &[String]) -> String {
    let seed = rng.pick(frames);
    match rng.weighted(&[10, 45, 25, 8, 7, 5]) {
        0 => seed.clone(),
        1 => mutate_json(rng, seed),
        2 => mutate_text(rng, seed),
        3 => random_value(rng, 4).to_string(),
        4 => random_text(rng, 40),
        _ => {
            // Any JSON object at all with a known type.
            let mut v = random_value(rng, 3);
            if let Some(o) = v.as_object_mut() {
                o.insert("type".into(), Value::from(*rng.pick(CLIENT_TYPES)));
            }
            v.to_string()
        }
    }
}

/// Checks one frame; `Ok(kind)` names the outcome, `Err` says which invariant broke.
pub fn check(text: &str) -> Result<String, String> {
    let outcome = parse_client_message(text);
    let reference = reference(text);
    if canon(&outcome) != canon(&reference) {
        return Err(format!(
            "parser {:?} but the slow path {:?}",
            canon(&outcome),
            canon(&reference)
        ));
    }
    let value = serde_json::from_str::<Value>(text);
    match (&outcome, &value) {
        (Err(e), _) => {
            let expected = match &value {
                Err(_) => Some(ParseError::BadJson),
                Ok(v) if !v.is_object() => Some(ParseError::NotObject),
                Ok(v) if !v["type"].is_string() => Some(ParseError::MissingType),
                Ok(_) => None,
            };
            if let Some(expected) = expected {
                if *e != expected {
                    return Err(format!("{e:?}, but serde_json's reading says {expected:?}"));
                }
            }
            match e.error_code() {
                Some(code) if !code.message().is_empty() => {
                    let kind = match e {
                        ParseError::InvalidFields(t) => format!("err:invalid_message:{t}"),
                        _ => format!("err:{}", code.as_str()),
                    };
                    Ok(kind)
                }
                Some(code) => Err(format!("{code:?} has no message")),
                None => match e {
                    ParseError::UnknownType(t) if !CLIENT_TYPES.contains(&t.as_str()) => {
                        Ok("ignored:unknown_type".into())
                    }
                    other => Err(format!(
                        "{other:?} has no error code and is no documented ignore"
                    )),
                },
            }
        }
        (Ok(_), Err(e)) => Err(format!("accepted text serde_json refuses: {e}")),
        (Ok(msg), Ok(v)) => {
            agrees_with_value(msg, v)?;
            Ok(format!("ok:{}", msg.kind()))
        }
    }
}

/// The slow path, as the documentation defines it, rebuilt here from serde alone: a frame that
/// is a JSON object is what the derived tagged enum makes of it, else the classification of
/// serde_json's `Value`.
fn reference(text: &str) -> Result<ClientMessage, ParseError> {
    let value: Value = serde_json::from_str(text).map_err(|_| ParseError::BadJson)?;
    let object = value.as_object().ok_or(ParseError::NotObject)?;
    if let Ok(msg) = serde_json::from_str::<ClientMessage>(text) {
        return Ok(msg);
    }
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or(ParseError::MissingType)?;
    match CLIENT_TYPES.iter().find(|known| **known == kind) {
        Some(known) => Err(ParseError::InvalidFields(known)),
        None => Err(ParseError::UnknownType(kind.chars().take(40).collect())),
    }
}

/// A parse outcome that compares by meaning: relayed payloads as JSON values (the fast path
/// keeps their text, the slow path re-encodes it), anything else by its debug form.
fn canon(outcome: &Result<ClientMessage, ParseError>) -> Result<String, ParseError> {
    let payload = |raw: &str| {
        serde_json::from_str::<Value>(raw)
            .map(|v| v.to_string())
            .unwrap_or_else(|e| format!("NOT JSON {raw:?}: {e}"))
    };
    let msg = outcome.as_ref().map_err(Clone::clone)?;
    Ok(match msg {
        ClientMessage::WebrtcIce {
            target_user_id,
            candidate,
        } => format!("ice {target_user_id:?} {}", payload(candidate.get())),
        ClientMessage::WebrtcOffer {
            target_user_id,
            sdp,
        } => format!("offer {target_user_id:?} {}", payload(sdp.get())),
        ClientMessage::WebrtcAnswer { sdp } => format!("answer {}", payload(sdp.get())),
        other => format!("{other:?}"),
    })
}

/// A parsed message against serde_json's reading of the same frame.
fn agrees_with_value(msg: &ClientMessage, v: &Value) -> Result<(), String> {
    if v["type"].as_str() != Some(msg.kind()) {
        return Err(format!(
            "kind {} but the frame's type is {}",
            msg.kind(),
            v["type"]
        ));
    }
    let same_payload = |raw: &str, field: &str| {
        let relayed: Value = serde_json::from_str(raw).map_err(|e| format!("{field}: {e}"))?;
        if relayed != v[field] {
            return Err(format!(
                "{field} relayed as {relayed} but the frame has {}",
                v[field]
            ));
        }
        Ok(())
    };
    let target = v["target_user_id"].as_str();
    match msg {
        ClientMessage::WebrtcIce {
            target_user_id,
            candidate,
        } => {
            same_payload(candidate.get(), "candidate")?;
            if target_user_id.as_deref() != target {
                return Err(format!("ice target {target_user_id:?}, frame {target:?}"));
            }
        }
        ClientMessage::WebrtcOffer {
            target_user_id,
            sdp,
        } => {
            same_payload(sdp.get(), "sdp")?;
            if target_user_id.as_str() != target.unwrap_or("") {
                return Err(format!("offer target {target_user_id:?}, frame {target:?}"));
            }
        }
        ClientMessage::WebrtcAnswer { sdp } => same_payload(sdp.get(), "sdp")?,
        ClientMessage::Chat { message, .. } if v["message"].as_str().unwrap_or("") != message => {
            return Err(format!("chat {message:?}, frame {}", v["message"]));
        }
        _ => {}
    }
    Ok(())
}
