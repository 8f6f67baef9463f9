//! What every request handler and connection shares, built once by `server::run`.

use std::sync::Arc;

use actix::prelude::*;
use bytestring::ByteString;
use familiar_actors::core::Core;
use familiar_actors::registry::Registry;
use tokio::sync::watch;

use crate::address_sockets::AddressSockets;
use crate::config::Config;
use crate::rate::Rates;
use crate::turn::TurnService;

/// What the drain tells sockets: hosts are asked back first, so that their sessions exist when
/// their guests return (a guest before its host is refused with `host_not_back` and waits).
#[derive(Clone)]
pub struct RestartNotice {
    /// For a session's host.
    pub host: ByteString,
    /// For everyone else, in a session or not.
    pub others: ByteString,
}

/// The relay's shared state.
pub struct AppState {
    /// Every setting, as parsed at start.
    pub config: Config,
    /// Limits, ICE, metrics and tokens, shared with the actors.
    pub core: Arc<Core>,
    /// Where connections create, join and resume.
    pub registry: Addr<Registry>,
    /// The ICE server source; a create/join/resume waits for its first TURN mint.
    pub turn: Arc<TurnService>,
    /// The per-connection rate classes, read on every message.
    pub rates: Rates,
    /// Set once by the drain: the `server_restarting` frame every open socket is sent before
    /// its 1012 close, whatever state it is in.
    pub restarting: watch::Sender<Option<RestartNotice>>,
    /// Open sockets per client address, for `MAX_SOCKETS_PER_IP`.
    pub sockets: Arc<AddressSockets>,
}
