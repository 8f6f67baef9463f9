//! Session passwords: argon2id hashing and checking. Both are deliberately slow, so callers run
//! them on the blocking pool (`tokio::task::spawn_blocking`), never on an actor thread.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Hashes `password` into a PHC string (`$argon2id$v=19$...`). `None` only if argon2 itself
/// refuses the input, which the length limit on passwords rules out in practice.
pub fn hash(password: &str) -> Option<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .ok()
        .map(|h| h.to_string())
}

/// True when `password` matches the PHC string `phc`. A malformed `phc` never matches.
pub fn verify(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Hashes on the blocking pool.
pub async fn hash_off_thread(password: String) -> Option<String> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .ok()
        .flatten()
}

/// Verifies on the blocking pool.
pub async fn verify_off_thread(phc: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify(&phc, &password))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let phc = hash("hunter42").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify(&phc, "hunter42"));
        assert!(!verify(&phc, "hunter43"));
        assert!(!verify("not a hash", "hunter42"));
    }
}
