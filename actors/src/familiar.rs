//! Participant model helpers: the familiar (avatar) and the sanitizing of everything a client
//! names itself with. A familiar never causes an error: each invalid or missing field silently
//! becomes its default, as the contract requires.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

/// The avatar shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    #[default]
    Halo,
    Ember,
    Prism,
}

/// The avatar's motion accent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Accent {
    #[default]
    Drift,
    Orbit,
    Ripple,
}

/// A participant's avatar, always valid once built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Familiar {
    pub variant: Variant,
    /// `#rrggbb`, lower-case.
    pub color: String,
    pub accent: Accent,
    #[ts(type = "number")]
    pub seed: u64,
}

/// The default colour of a familiar.
pub const DEFAULT_COLOR: &str = "#7dd3fc";

/// The default seed: the sum of the username's Unicode code points, mod 10000.
pub fn default_seed(username: &str) -> u64 {
    username.chars().map(|c| c as u64).sum::<u64>() % 10_000
}

impl Familiar {
    /// The familiar every field of which is its default, for `username`.
    pub fn default_for(username: &str) -> Self {
        Familiar {
            variant: Variant::default(),
            color: DEFAULT_COLOR.to_string(),
            accent: Accent::default(),
            seed: default_seed(username),
        }
    }

    /// Builds a familiar from whatever the client sent, field by field.
    pub fn sanitize(input: Option<&Value>, username: &str) -> Self {
        let mut familiar = Self::default_for(username);
        let Some(object) = input.and_then(Value::as_object) else {
            return familiar;
        };
        if let Some(variant) = object
            .get("variant")
            .and_then(|v| Variant::deserialize(v).ok())
        {
            familiar.variant = variant;
        }
        if let Some(accent) = object
            .get("accent")
            .and_then(|v| Accent::deserialize(v).ok())
        {
            familiar.accent = accent;
        }
        if let Some(color) = object.get("color").and_then(Value::as_str) {
            if is_hex_color(color) {
                familiar.color = color.to_ascii_lowercase();
            }
        }
        // Only a JSON integer >= 0 counts: serde_json keeps floats, bools and strings apart.
        if let Some(seed) = object.get("seed").and_then(Value::as_u64) {
            familiar.seed = seed;
        }
        familiar
    }
}

fn is_hex_color(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == 7 && bytes[0] == b'#' && bytes[1..].iter().all(u8::is_ascii_hexdigit)
}

/// Cleans a display name: control characters stripped, whitespace trimmed, cut to `max_chars`
/// characters (never inside one), and `fallback` when nothing is left.
pub fn clean_name(input: Option<&str>, max_chars: usize, fallback: &str) -> String {
    let cleaned: String = input
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let trimmed: String = cleaned.trim().chars().take(max_chars).collect();
    let trimmed = trimmed.trim_end();
    if trimmed.is_empty() {
        fallback.to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn invalid_fields_fall_back_one_by_one() {
        let f = Familiar::sanitize(
            Some(&json!({"variant": "ember", "color": "#ABCDEF", "accent": "spin", "seed": 1.5})),
            "ab",
        );
        assert_eq!(f.variant, Variant::Ember);
        assert_eq!(f.color, "#abcdef");
        assert_eq!(f.accent, Accent::Drift);
        assert_eq!(f.seed, 97 + 98);
    }

    #[test]
    fn seed_rejects_bool_string_and_negative() {
        for bad in [json!(true), json!("7"), json!(-1), json!(2.0)] {
            let f = Familiar::sanitize(Some(&json!({ "seed": bad })), "é");
            assert_eq!(f.seed, 233, "seed {bad} should fall back");
        }
        let f = Familiar::sanitize(Some(&json!({"seed": 42})), "x");
        assert_eq!(f.seed, 42);
    }

    #[test]
    fn not_an_object_is_the_default() {
        assert_eq!(
            Familiar::sanitize(Some(&json!("halo")), "Host"),
            Familiar::default_for("Host")
        );
        assert_eq!(Familiar::sanitize(None, ""), Familiar::default_for(""));
    }

    #[test]
    fn names_are_trimmed_stripped_and_cut_at_char_boundaries() {
        assert_eq!(clean_name(Some("  Ana\u{7}  "), 10, "Guest"), "Ana");
        assert_eq!(clean_name(Some("ééééé"), 3, "Guest"), "ééé");
        assert_eq!(clean_name(Some(" \n\t "), 10, "Guest"), "Guest");
        assert_eq!(clean_name(None, 10, "Host"), "Host");
        assert_eq!(clean_name(Some("ab cd"), 3, "G"), "ab");
    }
}
