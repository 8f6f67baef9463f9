//! Mutations: JSON-aware ones that keep a frame mostly well-formed (a field's value swapped for
//! an awkward one, a field dropped, duplicated or added, the `type` changed, deep nesting), text
//! ones that serde's writer never makes (escaped keys, duplicate keys, lone surrogates, huge
//! numbers, stray tokens), and plain byte ones.

use familiar_actors::protocol::CLIENT_TYPES;
use serde_json::{json, Map, Value};

use crate::rng::Rng;

/// Field names worth trying on any frame: every field a client message has, and a few others.
pub const FIELD_NAMES: &[&str] = &[
    "type",
    "name",
    "username",
    "password",
    "familiar",
    "capabilities",
    "code",
    "guest_name",
    "token",
    "last_seq",
    "track_id",
    "is_playing",
    "position_ms",
    "track_meta",
    "up_next",
    "message",
    "kind",
    "target_user_id",
    "sdp",
    "candidate",
    "connected",
    "path",
    "failed_stage",
    "id",
    "client_id",
    "x",
];

/// A JSON value chosen to be awkward somewhere: empty, huge, negative, fractional, of the wrong
/// shape, full of control characters or far-away code points.
pub fn awkward_value(rng: &mut Rng) -> Value {
    match rng.below(24) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(false),
        3 => json!(0),
        4 => json!(-1),
        5 => json!(u64::MAX),
        6 => json!(i64::MIN),
        7 => json!(1.5e300),
        8 => json!(-0.0),
        9 => json!(""),
        10 => json!("   "),
        11 => json!("x".repeat(rng.range(1, 3000))),
        12 => json!("a\u{0}b\u{7}\u{1b}[31m\u{7f}\u{200b}\u{feff}"),
        13 => json!("😀👩‍👩‍👧 ñ ü 中文 \u{10ffff}"),
        14 => json!([]),
        15 => json!({}),
        16 => json!(["resume", 1, null]),
        17 => json!({"variant": "ember", "color": "#GGGGGG", "accent": 5, "seed": -3}),
        18 => json!({"title": {"a": 1}, "bpm": "fast", "artist": [1]}),
        19 => json!([{"track_id": null}, 7, {"title": "x".repeat(300)}]),
        20 => json!(CLIENT_TYPES[rng.below(CLIENT_TYPES.len())]),
        21 => json!(rng.next_u64() as f64 / 7.0),
        22 => nested(rng.range(1, 140)),
        _ => random_value(rng, 3),
    }
}

/// `depth` arrays inside each other, around a number.
pub fn nested(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = json!([v]);
    }
    v
}

/// Any JSON value, at most `depth` levels deep.
pub fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let pick = if depth == 0 {
        rng.below(5)
    } else {
        rng.below(7)
    };
    match pick {
        0 => Value::Null,
        1 => json!(rng.one_in(2)),
        2 => json!(rng.next_u64() as i64 >> rng.below(64)),
        3 => json!(rng.next_u64() as f64 / (1u64 << rng.below(64)) as f64),
        4 => json!(random_text(rng, 12)),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.below(4) {
                map.insert(
                    rng.pick(FIELD_NAMES).to_string(),
                    random_value(rng, depth - 1),
                );
            }
            Value::Object(map)
        }
    }
}

/// A short string of characters from all over Unicode.
pub fn random_text(rng: &mut Rng, max: usize) -> String {
    (0..rng.below(max + 1))
        .map(|_| match rng.below(4) {
            0 => char::from(rng.range(0, 0x7f) as u8),
            1 => char::from_u32(rng.range(0x80, 0x7ff) as u32).unwrap_or('?'),
            2 => char::from_u32(rng.range(0x800, 0xffff) as u32).unwrap_or('?'),
            _ => char::from_u32(rng.range(0x10000, 0x10ffff) as u32).unwrap_or('?'),
        })
        .collect()
}

/// One to three JSON-aware changes to `frame` (text that need not be JSON).
pub fn mutate_json(rng: &mut Rng, frame: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(frame) else {
        return mutate_text(rng, frame);
    };
    for _ in 0..rng.range(1, 3) {
        mutate_value(rng, &mut value);
    }
    let text = value.to_string();
    if rng.one_in(3) {
        mutate_text(rng, &text)
    } else {
        text
    }
}

fn mutate_value(rng: &mut Rng, value: &mut Value) {
    let Some(object) = value.as_object_mut() else {
        *value = if rng.one_in(2) {
            json!({"type": rng.pick(CLIENT_TYPES)})
        } else {
            awkward_value(rng)
        };
        return;
    };
    let keys: Vec<String> = object.keys().cloned().collect();
    match rng.below(9) {
        // An existing field gets an awkward value.
        0..=2 if !keys.is_empty() => {
            let key = rng.pick(&keys).clone();
            object.insert(key, awkward_value(rng));
        }
        // A field dropped.
        3 if !keys.is_empty() => {
            let key = rng.pick(&keys).clone();
            object.remove(&key);
        }
        // Another type, known or not, or a type that is not a string.
        4 => {
            let kind = match rng.below(6) {
                0 => json!("CHAT"),
                1 => json!(format!("{} ", rng.pick(CLIENT_TYPES))),
                2 => awkward_value(rng),
                3 => json!(random_text(rng, 8)),
                _ => json!(rng.pick(CLIENT_TYPES)),
            };
            object.insert("type".into(), kind);
        }
        // A field another message has, or one nobody has yet.
        5 | 6 => {
            let key = rng.pick(FIELD_NAMES).to_string();
            object.insert(key, awkward_value(rng));
        }
        // A value buried deep.
        7 if !keys.is_empty() => {
            let key = rng.pick(&keys).clone();
            if let Some(v) = object.get_mut(&key) {
                let inner = v.take();
                *v = json!({"deep": [inner, nested(rng.range(1, 130))]});
            }
        }
        _ => {
            *value = awkward_value(rng);
        }
    }
}

const JSON_TOKENS: [&str; 9] = ["{", "}", "[", "]", ",", ":", "\"", "\\", "\\u"];
const SPACES: [&str; 6] = [" ", "\n", "\t", "\r", "\u{feff}", "\u{a0}"];
const TAILS: [&str; 6] = [" x", "}", "]", "\0", " ", "{}"];

fn pick_str(rng: &mut Rng, items: &[&'static str]) -> &'static str {
    items[rng.below(items.len())]
}

/// Text-level changes a JSON writer never makes.
pub fn mutate_text(rng: &mut Rng, text: &str) -> String {
    let mut s = text.to_string();
    for _ in 0..rng.range(1, 3) {
        let at = char_boundary(&s, rng.below(s.len() + 1));
        match rng.below(14) {
            0 => s = s.replacen("\"type\"", r#""t\u0079pe""#, 1),
            1 => s = s.replacen('{', r#"{"type":"chat","#, 1),
            2 => s = s.replacen('{', r#"{"type":"webrtc_ice","candidate":1,"#, 1),
            3 => s.insert_str(at, r#""\ud800""#),
            4 => s.insert_str(at, "1e400"),
            5 => s.insert_str(at, pick_str(rng, &JSON_TOKENS)),
            6 => s.insert_str(at, pick_str(rng, &SPACES)),
            7 => s.truncate(at),
            8 => {
                let end = char_boundary(&s, at + rng.below(12));
                s.replace_range(at..end, "");
            }
            9 => s.push_str(pick_str(rng, &TAILS)),
            10 => s = s.replacen(':', ": ", rng.range(1, 4)),
            11 => s = s.replacen("webrtc_", r#"webrtc\u005f"#, 1),
            12 => {
                // A span repeated: duplicate keys and values.
                let end = char_boundary(&s, at + rng.below(40));
                let span = s[at..end].to_string();
                s.insert_str(end, &span);
            }
            _ => s.insert(
                at,
                char::from_u32(rng.range(0, 0x10ffff) as u32).unwrap_or('\u{fffd}'),
            ),
        }
    }
    s
}

/// The nearest char boundary at or before `at`.
fn char_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Random byte changes: flips, insertions, deletions, overwrites, truncation.
pub fn mutate_bytes(rng: &mut Rng, bytes: &mut Vec<u8>) {
    for _ in 0..rng.range(1, 4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 => bytes.insert(at, rng.byte()),
            2 if at < bytes.len() => {
                bytes.remove(at);
            }
            3 if at < bytes.len() => bytes[at] = *rng.pick(&[0x00, 0x7f, 0x80, 0xff, 0x7e]),
            4 => bytes.truncate(at),
            _ => {
                let n = rng.below(8);
                let extra = rng.bytes(n);
                bytes.splice(at..at, extra);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_stay_valid_utf8_text_and_vary() {
        let seed = r#"{"type":"chat","message":"héllo"}"#;
        let mut distinct = std::collections::HashSet::new();
        for n in 0..500 {
            let mut rng = Rng::for_input(3, n);
            distinct.insert(mutate_json(&mut rng, seed));
            distinct.insert(mutate_text(&mut rng, seed));
        }
        assert!(distinct.len() > 400, "only {} distinct", distinct.len());
    }
}
