//! What the registry and every session share, handed to each at start: the limits, where ICE
//! servers come from, the metrics and the token signer. Neither actor imports the other for it.

use std::sync::Arc;

use crate::ice::IceServerSource;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::protocol::{ErrorCode, ServerMessage};
use crate::token::TokenSigner;

/// The shared context of the registry and the sessions.
pub struct Core {
    /// Every rule-bearing number (caps, lengths, timings).
    pub limits: Limits,
    /// The ICE servers handed out in every welcome (STUN, static or minted TURN).
    pub ice: Arc<dyn IceServerSource>,
    /// Where every actor records what it did.
    pub metrics: Arc<Metrics>,
    /// Signs and checks resume tokens with the relay's secret.
    pub tokens: TokenSigner,
}

impl Core {
    /// An `error` frame for `code`, counted in the metrics.
    pub fn error(&self, code: ErrorCode) -> Outbound {
        self.error_frame(ServerMessage::error(code), code)
    }

    /// An `error` frame with a retry hint, counted in the metrics.
    pub fn error_retry(&self, code: ErrorCode, retry_after_ms: u64) -> Outbound {
        self.error_frame(ServerMessage::error_retry(code, retry_after_ms), code)
    }

    /// Counts and frames an `error` message built elsewhere (the `server_full` wording).
    pub fn error_frame(&self, msg: ServerMessage, code: ErrorCode) -> Outbound {
        Metrics::inc(&self.metrics.errors_sent, "code", code.as_str());
        Outbound::Frame(msg.to_text())
    }
}
