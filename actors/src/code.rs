//! Session codes: what they are made of, how they are generated and how a typed code is
//! normalised. A code is the only credential of a session without a password, so it must be
//! unguessable; see `docs/architecture.md` for the entropy figure.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Upper-case letters and digits without the look-alikes 0/O and 1/I/L: 31 symbols.
pub const ALPHABET: [char; 31] = [
    '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'M',
    'N', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
];

/// Ten symbols of 31: log2(31^10) ≈ 49.5 bits. Old guest pages refuse codes under 8.
pub const CODE_LEN: usize = 10;

/// A normalised session code (upper-case, no separators).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionCode(String);

impl SessionCode {
    /// A fresh random code.
    pub fn generate() -> Self {
        SessionCode(nanoid::nanoid!(CODE_LEN, &ALPHABET))
    }

    /// A fresh random code after `prefix` (a cluster machine's tag, so every machine can tell
    /// which machine made it). The random part is as long as ever, so the entropy is unchanged;
    /// an empty prefix is exactly [`SessionCode::generate`].
    pub fn generate_after(prefix: &str) -> Self {
        if prefix.is_empty() {
            return Self::generate();
        }
        SessionCode(format!("{prefix}{}", nanoid::nanoid!(CODE_LEN, &ALPHABET)))
    }

    /// Normalises what a person typed or a link carried: case-insensitive, spaces and dashes
    /// ignored. Anything else is kept, so a malformed code simply finds no session.
    pub fn parse(input: &str) -> Self {
        SessionCode(
            input
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .take(64)
                .flat_map(char::to_uppercase)
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first three characters, the only part of a code that may appear in logs.
    pub fn short(&self) -> ShortCode<'_> {
        ShortCode(&self.0)
    }
}

/// Written as its text (in resume tokens).
impl Serialize for SessionCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Read back through [`SessionCode::parse`], so a token can only hold a normalised code.
impl<'de> Deserialize<'de> for SessionCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| SessionCode::parse(&s))
    }
}

/// Displays a code shortened for logs: `ABC…`.
pub struct ShortCode<'a>(&'a str);

impl fmt::Display for ShortCode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: String = self.0.chars().take(3).collect();
        write!(f, "{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_use_the_alphabet() {
        for _ in 0..100 {
            let code = SessionCode::generate();
            assert_eq!(code.as_str().len(), CODE_LEN);
            assert!(code.as_str().chars().all(|c| ALPHABET.contains(&c)));
        }
    }

    #[test]
    fn parse_is_case_and_separator_insensitive() {
        assert_eq!(
            SessionCode::parse(" abcde-fghjk "),
            SessionCode::parse("ABCDEFGHJK")
        );
        assert_eq!(SessionCode::parse("ab cd").as_str(), "ABCD");
    }

    #[test]
    fn a_prefix_comes_before_the_full_random_part() {
        let code = SessionCode::generate_after("A7");
        assert_eq!(code.as_str().len(), CODE_LEN + 2);
        assert!(code.as_str().starts_with("A7"));
        assert_eq!(SessionCode::generate_after("").as_str().len(), CODE_LEN);
    }

    #[test]
    fn short_form_hides_the_rest() {
        assert_eq!(SessionCode::parse("ABCDEFGHJK").short().to_string(), "ABC…");
    }
}
