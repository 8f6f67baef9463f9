//! The limits and timings the core enforces. The binary fills them from its configuration
//! (`--help` lists each variable); tests shrink the timings.

use std::time::Duration;

/// Every rule-bearing number the registry and sessions use. Documented in `docs/operations.md`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Live sessions at once; a `create` beyond it gets "Server is at the N-session limit".
    pub max_sessions: usize,
    /// Live sessions (creates waiting for their password hash included) hosted from one client
    /// address (IPv4, or IPv6 /64); a `create` beyond it gets `too_many_sessions`. 0: no cap.
    pub max_sessions_per_ip: usize,
    /// Participants in one session, host included.
    pub max_participants: usize,
    /// Participant names are cut to this many characters.
    pub max_name_chars: usize,
    /// Session names are cut to this many characters.
    pub max_session_name_chars: usize,
    /// Chat longer than this many characters is refused with an error, not cut.
    pub max_chat_chars: usize,
    /// Passwords longer than this many bytes are refused (argon2 work grows with length).
    pub max_password_bytes: usize,
    /// How often a session with changed playback sends a heartbeat `playback_update`.
    pub heartbeat_interval: Duration,
    /// How long a participant whose socket dropped stays as away before it is removed.
    pub grace_period: Duration,
    /// Chat and reactions kept per session for replay on resume.
    pub replay_buffer: usize,
    /// Wrong passwords per session per minute before further joins are throttled.
    pub wrong_passwords_per_minute: u32,
    /// Failed joins (unknown code, wrong password) per client IP per minute.
    pub join_failures_per_minute: u32,
    /// How long a resume token stays valid.
    pub token_ttl: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 50,
            max_sessions_per_ip: 5,
            max_participants: 32,
            max_name_chars: 40,
            max_session_name_chars: 80,
            max_chat_chars: 1000,
            max_password_bytes: 256,
            heartbeat_interval: Duration::from_secs(5),
            grace_period: Duration::from_secs(30),
            replay_buffer: 200,
            wrong_passwords_per_minute: 10,
            join_failures_per_minute: 30,
            token_ttl: Duration::from_secs(24 * 3600),
        }
    }
}
