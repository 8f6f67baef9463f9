//! The cluster's settings: who this machine is, who its peers are, and how a request for
//! another machine's session gets there. All empty by default: one machine, no cluster, and the
//! relay behaves exactly as it always did.

use clap::{Args, ValueEnum};

/// How a request that reached the wrong machine gets to the session's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Routing {
    /// `replay` on Fly (`FLY_MACHINE_ID` set), `bridge` elsewhere.
    Auto,
    /// Answer with a `fly-replay` header: Fly's proxy sends the request to the owner. Requests
    /// whose code the proxy cannot see (the Familiar app's first frame) are still bridged.
    Replay,
    /// Carry every such request to the owner over the private network ourselves (any
    /// TCP/TLS proxy in front).
    Bridge,
}

/// The cluster part of [`crate::config::Config`].
#[derive(Debug, Clone, Args)]
pub struct ClusterConfig {
    /// Static cluster members, comma-separated `id=host:port` (this machine included, found by
    /// `MACHINE_ID`). Empty and not on Fly: a single machine.
    #[arg(long, env = "PEERS", value_delimiter = ',')]
    pub peers: Vec<String>,

    /// This machine's id among `PEERS`. On Fly, `FLY_MACHINE_ID` is used when this is unset.
    #[arg(long, env = "MACHINE_ID")]
    pub machine_id: Option<String>,

    /// Set by Fly on every machine; with `FLY_APP_NAME` it turns the cluster on, peers found
    /// in Fly's internal DNS (`<app>.internal`).
    #[arg(long, env = "FLY_MACHINE_ID", hide = true)]
    pub fly_machine_id: Option<String>,

    /// Set by Fly on every machine.
    #[arg(long, env = "FLY_APP_NAME", hide = true)]
    pub fly_app_name: Option<String>,

    /// `off` keeps a Fly app a single machine even with Fly's variables set.
    #[arg(long, env = "CLUSTER", default_value = "on")]
    pub cluster: String,

    /// How a request for another machine's session reaches it.
    #[arg(long, env = "CLUSTER_ROUTING", value_enum, default_value_t = Routing::Auto)]
    pub cluster_routing: Routing,

    /// How often each peer is probed (and Fly's DNS re-read), in milliseconds.
    #[arg(long, env = "CLUSTER_PROBE_MS", default_value_t = 1_000)]
    pub cluster_probe_ms: u64,
}

impl ClusterConfig {
    /// True when something asks for a cluster.
    pub fn enabled(&self) -> bool {
        let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        let on_fly = present(&self.fly_machine_id) && present(&self.fly_app_name);
        !self.static_peers().is_empty() || (on_fly && self.cluster.trim() != "off")
    }

    /// The `PEERS` entries that parse, as (id, address).
    pub fn static_peers(&self) -> Vec<(String, String)> {
        self.peers
            .iter()
            .filter_map(|entry| {
                let (id, addr) = entry.trim().split_once('=')?;
                let (id, addr) = (id.trim(), addr.trim());
                (!id.is_empty() && !addr.is_empty()).then(|| (id.to_string(), addr.to_string()))
            })
            .collect()
    }

    /// This machine's id: `MACHINE_ID`, else Fly's.
    pub fn me(&self) -> Option<String> {
        self.machine_id
            .clone()
            .or_else(|| self.fly_machine_id.clone())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// `auto` resolved.
    pub fn routing(&self) -> Routing {
        match self.cluster_routing {
            Routing::Auto if self.fly_machine_id.is_some() => Routing::Replay,
            Routing::Auto => Routing::Bridge,
            other => other,
        }
    }
}
