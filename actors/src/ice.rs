//! Where a session gets the ICE server list it hands to members in `session_created` /
//! `session_joined`. The binary supplies the source (static STUN/TURN plus Cloudflare-minted
//! TURN, refreshed in the background); the core only ever reads the current list, so a join
//! never waits on the network.

use std::sync::Arc;

use crate::protocol::IceServer;

/// The current ICE servers, read synchronously on every create and join.
pub trait IceServerSource: Send + Sync + 'static {
    /// The list to hand to a member now. Cheap: a shared pointer to a cached list.
    fn current(&self) -> Arc<Vec<IceServer>>;
    /// Whether the list includes any TURN server (said publicly by `by-code`).
    fn turn_available(&self) -> bool;
}

/// A fixed list, for tests and for relays with no Cloudflare TURN.
pub struct FixedIceServers(pub Arc<Vec<IceServer>>);

impl FixedIceServers {
    pub fn new(servers: Vec<IceServer>) -> Self {
        FixedIceServers(Arc::new(servers))
    }
}

impl IceServerSource for FixedIceServers {
    fn current(&self) -> Arc<Vec<IceServer>> {
        self.0.clone()
    }

    fn turn_available(&self) -> bool {
        self.0.iter().any(has_turn_url)
    }
}

/// True when any of the server's URLs is a `turn:` or `turns:` URL.
pub fn has_turn_url(server: &IceServer) -> bool {
    let is_turn = |u: &str| u.starts_with("turn:") || u.starts_with("turns:");
    match &server.urls {
        serde_json::Value::String(u) => is_turn(u),
        serde_json::Value::Array(list) => list.iter().filter_map(|u| u.as_str()).any(is_turn),
        _ => false,
    }
}
