//! The machine-readable `code` of every `error` frame, with the contract's wording.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::server::ServerMessage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadJson,
    NotObject,
    MissingType,
    InvalidMessage,
    BinaryNotSupported,
    AlreadyInSession,
    SessionNotFound,
    InvalidPassword,
    SessionFull,
    ServerFull,
    NotHost,
    CannotKick,
    HostCannotRequestOffer,
    NotAllowed,
    Kicked,
    ChatTooLong,
    ChatEmpty,
    PasswordTooLong,
    RateLimited,
    JoinThrottled,
    InvalidToken,
    TokenExpired,
    HostNotBack,
    TooManySessions,
    Internal,
}

/// The session cap appears in one message; it is filled in by the registry.
pub const SERVER_FULL_TEMPLATE: &str = "Server is at the {N}-session limit";

impl ErrorCode {
    /// The wire name of this code, for metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::NotObject => "not_object",
            ErrorCode::MissingType => "missing_type",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::BinaryNotSupported => "binary_not_supported",
            ErrorCode::AlreadyInSession => "already_in_session",
            ErrorCode::SessionNotFound => "session_not_found",
            ErrorCode::InvalidPassword => "invalid_password",
            ErrorCode::SessionFull => "session_full",
            ErrorCode::ServerFull => "server_full",
            ErrorCode::NotHost => "not_host",
            ErrorCode::CannotKick => "cannot_kick",
            ErrorCode::HostCannotRequestOffer => "host_cannot_request_offer",
            ErrorCode::NotAllowed => "not_allowed",
            ErrorCode::Kicked => "kicked",
            ErrorCode::ChatTooLong => "chat_too_long",
            ErrorCode::ChatEmpty => "chat_empty",
            ErrorCode::PasswordTooLong => "password_too_long",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::JoinThrottled => "join_throttled",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::HostNotBack => "host_not_back",
            ErrorCode::TooManySessions => "too_many_sessions",
            ErrorCode::Internal => "internal",
        }
    }

    /// The human-readable `message`. The contract fixes some of these texts word for word.
    pub fn message(self) -> String {
        match self {
            ErrorCode::BadJson => "Message is not valid JSON".into(),
            ErrorCode::NotObject => "Message must be a JSON object".into(),
            ErrorCode::MissingType => "Message has no \"type\"".into(),
            ErrorCode::InvalidMessage => "Message fields have the wrong shape".into(),
            ErrorCode::BinaryNotSupported => "Binary frames are not supported".into(),
            ErrorCode::AlreadyInSession => "Already in a session; leave it first".into(),
            ErrorCode::SessionNotFound => "Session not found".into(),
            ErrorCode::InvalidPassword => "Invalid session password".into(),
            ErrorCode::SessionFull => "Session is full".into(),
            ErrorCode::ServerFull => "Server is full".into(),
            ErrorCode::NotHost => "Only the host can control playback".into(),
            ErrorCode::CannotKick => "Cannot kick that participant".into(),
            ErrorCode::HostCannotRequestOffer => "The host cannot request an offer".into(),
            ErrorCode::NotAllowed => "Your role cannot send that message".into(),
            ErrorCode::Kicked => "You were removed from this session".into(),
            ErrorCode::ChatTooLong => "Chat message is too long".into(),
            ErrorCode::ChatEmpty => "Chat message is empty".into(),
            ErrorCode::PasswordTooLong => "Password is too long".into(),
            ErrorCode::RateLimited => "Too many messages; slow down".into(),
            ErrorCode::JoinThrottled => "Too many failed attempts; try again shortly".into(),
            ErrorCode::InvalidToken => "Resume token is not valid".into(),
            ErrorCode::TokenExpired => "Resume token has expired".into(),
            ErrorCode::HostNotBack => "The host has not reconnected yet; retry shortly".into(),
            ErrorCode::TooManySessions => {
                "Too many sessions are hosted from your address; end one first".into()
            }
            ErrorCode::Internal => "Internal error; please retry".into(),
        }
    }
}

/// The `error` for a full relay, with the contract's exact wording for cap `cap`.
pub fn server_full(cap: usize) -> ServerMessage {
    ServerMessage::Error {
        message: SERVER_FULL_TEMPLATE.replace("{N}", &cap.to_string()),
        code: ErrorCode::ServerFull,
        retry_after_ms: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn error_frames_carry_contract_wording() {
        let text = ServerMessage::error(ErrorCode::InvalidPassword).to_text();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["message"], "Invalid session password");
        assert_eq!(v["code"], "invalid_password");
        let full: Value = serde_json::from_str(&server_full(50).to_text()).unwrap();
        assert_eq!(full["message"], "Server is at the 50-session limit");
    }
}
