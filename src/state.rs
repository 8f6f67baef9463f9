//! What every request handler and connection shares, built once by `server::run`.

use std::sync::Arc;

use actix::prelude::*;
use familiar_actors::core::Core;
use familiar_actors::registry::Registry;

use crate::address_sockets::AddressSockets;
use crate::cluster::Cluster;
use crate::config::Config;
use crate::drain::OpenSockets;
use crate::rate::Rates;
use crate::turn::TurnService;

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
    /// Every open socket, for the drain to tell `server_restarting` whatever state it is in.
    pub open_sockets: OpenSockets,
    /// Open sockets per client address, for `MAX_SOCKETS_PER_IP`.
    pub sockets: Arc<AddressSockets>,
    /// The other machines and where sessions live; `None` on a single machine.
    pub cluster: Option<Arc<Cluster>>,
}
