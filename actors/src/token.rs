//! Resume tokens: what a participant needs to get back into its session after a dropped socket
//! or a relay restart, signed with HMAC-SHA256 so a client can hold it but not forge it.
//!
//! Format: `base64url(claims JSON) "." base64url(HMAC(claims JSON))`. Tokens are opaque to
//! clients. They are signed, not encrypted: the host's token carries its password hash (the
//! host set that password, so nothing leaks to anyone who did not know it).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::code::SessionCode;
use crate::familiar::Familiar;
use crate::ids::{SessionId, UserId};
use crate::protocol::Role;

type HmacSha256 = Hmac<Sha256>;

/// What a token says about its holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResumeClaims {
    /// The session code (normalised when read back).
    pub code: SessionCode,
    /// The session id, so a token never reaches a different session that reuses the code.
    pub session_id: SessionId,
    pub user_id: UserId,
    pub role: Role,
    pub username: String,
    pub familiar: Familiar,
    /// Unix seconds after which the token is refused.
    pub exp: u64,
    /// Random, so every token handed out is distinct even within one second.
    #[serde(default)]
    pub nonce: u32,
    /// For the host only: what it takes to recreate the session after a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostClaims>,
}

/// The facts a host's token carries to recreate its session under the same code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostClaims {
    pub name: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Users the host kicked: they stay out, also after a restart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kicked: Vec<UserId>,
}

/// How a sealed frame ends: `,"mac":"` then [`SEAL_CHARS`] characters, then `"}`.
const SEAL_FIELD: &str = ",\"mac\":\"";
/// A seal keeps 128 of HMAC-SHA256's 256 bits: forging one still takes 2^128 tries.
const SEAL_BYTES: usize = 16;
/// 16 bytes in unpadded base64url.
const SEAL_CHARS: usize = 22;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token, or its signature does not match.
    Invalid,
    /// Genuine but past its expiry.
    Expired,
}

/// Signs and checks tokens with one secret.
pub struct TokenSigner {
    key: Vec<u8>,
}

impl TokenSigner {
    /// A signer for `secret` (the `SESSION_SECRET`).
    pub fn new(secret: &[u8]) -> Self {
        TokenSigner {
            key: secret.to_vec(),
        }
    }

    /// A signer with a random secret: tokens survive dropped sockets but not a restart.
    pub fn random() -> Self {
        let key: [u8; 32] = rand::random();
        TokenSigner { key: key.to_vec() }
    }

    fn mac(&self) -> HmacSha256 {
        let mac = HmacSha256::new_from_slice(&self.key).expect("any key length"); // ok: HMAC takes any key length
        mac
    }

    /// A key for `purpose` derived from the secret (hex HMAC of the purpose): machines that share
    /// `SESSION_SECRET` agree on it without sharing anything else, and it reveals nothing of
    /// the secret or of other purposes' keys.
    pub fn derive_key(&self, purpose: &str) -> String {
        let mut mac = self.mac();
        mac.update(b"familiar-derived-key:");
        mac.update(purpose.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The token for `claims`.
    pub fn sign(&self, claims: &ResumeClaims) -> String {
        let body = serde_json::to_vec(claims).expect("claims serialize"); // ok: claims are plain strings, numbers and enums, which always serialize.
        let mut mac = self.mac();
        mac.update(&body);
        let signature = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// Seals `body` (one JSON object, as sent) for `context` (the session id): the same frame
    /// spliced with a last field `"mac"`, the base64url of 128 bits of HMAC-SHA256 over
    /// `context \n body`. A frame sealed this way for one session is not valid for another.
    pub fn seal(&self, context: &str, body: &str) -> String {
        let Some(open) = body.strip_suffix('}') else {
            return body.to_string();
        };
        let tag = self.frame_tag(context, body);
        let mut sealed = String::with_capacity(body.len() + SEAL_FIELD.len() + SEAL_CHARS + 2);
        sealed.push_str(open);
        sealed.push_str(SEAL_FIELD);
        sealed.push_str(&URL_SAFE_NO_PAD.encode(&tag[..SEAL_BYTES]));
        sealed.push_str("\"}");
        sealed
    }

    /// Whether `frame` is exactly a frame [`TokenSigner::seal`] made for `context`.
    pub fn unseal(&self, context: &str, frame: &str) -> bool {
        let Some(rest) = frame.strip_suffix("\"}") else {
            return false;
        };
        let Some(split) = rest.len().checked_sub(SEAL_CHARS) else {
            return false;
        };
        let (Some(head), Some(tag)) = (rest.get(..split), rest.get(split..)) else {
            return false;
        };
        let (Some(open), Ok(tag)) = (head.strip_suffix(SEAL_FIELD), URL_SAFE_NO_PAD.decode(tag))
        else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(context.as_bytes());
        mac.update(b"\n");
        mac.update(open.as_bytes());
        mac.update(b"}");
        // Constant-time comparison of the tag's 128 bits.
        mac.verify_truncated_left(&tag).is_ok() && tag.len() == SEAL_BYTES
    }

    fn frame_tag(&self, context: &str, body: &str) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(context.as_bytes());
        mac.update(b"\n");
        mac.update(body.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The claims of a genuine, unexpired token.
    pub fn verify(&self, token: &str) -> Result<ResumeClaims, TokenError> {
        let (body, signature) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Invalid)?;
        let mut mac = self.mac();
        mac.update(&body);
        // Constant-time comparison.
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::Invalid)?;
        let claims: ResumeClaims =
            serde_json::from_slice(&body).map_err(|_| TokenError::Invalid)?;
        if claims.exp < unix_now() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> ResumeClaims {
        ResumeClaims {
            code: SessionCode::parse("ABCDEFGHJK"),
            session_id: "s".into(),
            user_id: "u".into(),
            role: Role::Guest,
            username: "Ana".into(),
            familiar: Familiar::default_for("Ana"),
            exp,
            nonce: 0,
            host: None,
        }
    }

    #[test]
    fn round_trip() {
        let signer = TokenSigner::new(b"secret");
        let c = claims(unix_now() + 60);
        assert_eq!(signer.verify(&signer.sign(&c)), Ok(c));
    }

    #[test]
    fn forged_and_foreign_tokens_are_invalid() {
        let signer = TokenSigner::new(b"secret");
        let token = signer.sign(&claims(unix_now() + 60));
        let other = TokenSigner::new(b"other");
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
        let (body, sig) = token.split_once('.').unwrap();
        let mut forged = claims(unix_now() + 60);
        forged.role = Role::Host;
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            signer.verify(&format!("{forged_body}.{sig}")),
            Err(TokenError::Invalid)
        );
        assert_eq!(signer.verify(body), Err(TokenError::Invalid));
        assert_eq!(signer.verify("garbage.!!"), Err(TokenError::Invalid));
    }

    #[test]
    fn sealed_frames_open_only_for_their_session_and_unchanged() {
        let signer = TokenSigner::new(b"secret");
        let body = r#"{"type":"chat","user_id":"u","message":"hi","seq":7}"#;
        let sealed = signer.seal("s1", body);
        assert!(
            sealed.starts_with(r#"{"type":"chat","user_id":"u","message":"hi","seq":7,"mac":""#)
        );
        let value: serde_json::Value = serde_json::from_str(&sealed).unwrap();
        assert_eq!(value["mac"].as_str().map(str::len), Some(SEAL_CHARS));
        assert!(signer.unseal("s1", &sealed));
        assert!(!signer.unseal("s2", &sealed));
        assert!(!TokenSigner::new(b"other").unseal("s1", &sealed));
        assert!(!signer.unseal("s1", &sealed.replace("hi", "ho")));
        assert!(!signer.unseal("s1", body));
        for cut in 0..sealed.len() {
            assert!(!signer.unseal("s1", &sealed[..cut]));
        }
        assert!(!signer.unseal("s1", "\"}"));
        assert!(!signer.unseal("s1", "é\"}"));
    }

    #[test]
    fn derived_keys_depend_on_secret_and_purpose() {
        let a = TokenSigner::new(b"secret");
        assert_eq!(
            a.derive_key("x"),
            TokenSigner::new(b"secret").derive_key("x")
        );
        assert_ne!(a.derive_key("x"), a.derive_key("y"));
        assert_ne!(
            a.derive_key("x"),
            TokenSigner::new(b"other").derive_key("x")
        );
        assert_eq!(a.derive_key("x").len(), 64);
    }

    #[test]
    fn expired_tokens_say_so() {
        let signer = TokenSigner::new(b"secret");
        let token = signer.sign(&claims(unix_now() - 1));
        assert_eq!(signer.verify(&token), Err(TokenError::Expired));
    }
}
