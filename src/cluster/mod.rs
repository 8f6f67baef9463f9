//! Many relay machines as one service, one session on one machine. This module owns the
//! machine's identity and tag, the table of its peers (from `PEERS` or Fly's internal DNS, kept
//! fresh by probes), and the one question every other part asks: where does the session under
//! this code live?
//!
//! No shared store: a code made here starts with this machine's two-symbol tag
//! ([`tag_of_machine`]), so any machine can name a code's owner by itself. When that is not
//! enough — the tag's machine is gone and the host restored its session elsewhere, or the code
//! predates the cluster — the machine asks its live peers, in parallel, whether they hold it.
//! How a request then reaches the owner (a `fly-replay` answer, or a bridge over the private
//! network) is decided by the callers: [`endpoints`] for HTTP, `connection::bridge` for sockets.

pub mod config;
pub mod endpoints;
pub mod wire;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix::prelude::*;
use familiar_actors::code::{SessionCode, ALPHABET, CODE_LEN};
use familiar_actors::registry::{Accepting, Holds, Registry, Request};
use familiar_actors::token::TokenSigner;
use futures_util::future::{join_all, select_ok};
use futures_util::FutureExt;
use serde::Deserialize;

pub use config::{ClusterConfig, Routing};

/// Symbols of a machine tag at the start of every code the machine makes.
pub const TAG_LEN: usize = 2;

/// How long a probe or an owner query waits for a peer.
const PEER_DEADLINE: Duration = Duration::from_millis(800);

/// Past this many machines a request is served where it is: no loops, whatever the tables say.
const MAX_HOPS: u8 = 2;

/// Starts the registry — with this machine's tag before its codes when it is in a cluster —
/// and the cluster's probes: `(registry, cluster)`. Fails when the configuration asks for a
/// cluster it does not describe (no id, no shared secret).
pub fn assemble(
    config: &crate::config::Config,
    core: &familiar_actors::core::Core,
    registry: Registry,
) -> std::io::Result<(Addr<Registry>, Option<Arc<Cluster>>)> {
    if !config.cluster.enabled() {
        return Ok((registry.start(), None));
    }
    let me = config.cluster.me().unwrap_or_default();
    let registry = registry.with_code_prefix(&tag_of_machine(&me)).start();
    let cluster = Cluster::from_config(
        &config.cluster,
        config.port,
        config.session_secret.as_deref(),
        &core.tokens,
        registry.clone(),
    )
    .map_err(std::io::Error::other)?
    .map(Arc::new);
    if let Some(cluster) = &cluster {
        log::info!(
            "cluster: machine {} (codes tagged {}), {:?} routing, {} static peers",
            cluster.me,
            cluster.tag,
            cluster.routing,
            cluster.peers().len()
        );
        cluster.start();
    }
    Ok((registry, cluster))
}

/// A machine of the cluster as this one sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The machine id: Fly's machine id, or the name given in `PEERS`.
    pub id: String,
    /// Where it is reached on the private network (`host:port`).
    pub addr: String,
    /// The tag its codes start with.
    pub tag: String,
    /// It answered its last probe and takes sessions (not draining).
    pub alive: bool,
}

/// Where a session's requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Here: the session lives here, or nowhere a peer knows (a restore may start here).
    Here,
    /// On this peer.
    Elsewhere(Peer),
}

/// Where the peer table comes from.
enum Discovery {
    /// `PEERS`: fixed members, probed for liveness.
    Static,
    /// Fly: `<app>.internal` resolves to every machine's private address; each is asked its id.
    FlyDns { app: String, port: u16 },
}

/// This machine's view of the cluster.
pub struct Cluster {
    /// This machine's id.
    pub me: String,
    /// The tag of the codes made here.
    pub tag: String,
    /// `replay` or `bridge` (never `auto`).
    pub routing: Routing,
    /// The cluster key peers present ([`wire::KEY_HEADER`]), derived from `SESSION_SECRET`.
    pub key: String,
    peers: RwLock<Vec<Peer>>,
    discovery: Discovery,
    probe_every: Duration,
    registry: Addr<Registry>,
}

/// What a machine says about itself (`GET /internal/cluster/machine`).
#[derive(Debug, Deserialize)]
struct MachineAnswer {
    id: String,
    accepting: bool,
}

/// The two-symbol tag of machine `id`: FNV-1a over its id, reduced to 31² values. Two machines
/// may share a tag (about 1 in 300 for a pair); owners are then asked, never guessed.
pub fn tag_of_machine(id: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let n = ALPHABET.len() as u64;
    let value = hash % (n * n);
    [
        ALPHABET[(value / n) as usize],
        ALPHABET[(value % n) as usize],
    ]
    .iter()
    .collect()
}

/// The tag a code carries: codes made by a cluster machine are a tag and a full random part.
pub fn tag_of_code(code: &SessionCode) -> Option<&str> {
    let text = code.as_str();
    (text.len() == CODE_LEN + TAG_LEN).then(|| &text[..TAG_LEN])
}

/// A code any machine could have made (10 or 12 symbols of the alphabet): others are not
/// worth asking the peers about.
fn plausible(code: &SessionCode) -> bool {
    let text = code.as_str();
    (text.len() == CODE_LEN || text.len() == CODE_LEN + TAG_LEN)
        && text.chars().all(|c| ALPHABET.contains(&c))
}

impl Cluster {
    /// The cluster this configuration asks for, or `None` for a single machine. Errors name
    /// what is missing (an id, a secret).
    pub fn from_config(
        config: &ClusterConfig,
        port: u16,
        secret: Option<&str>,
        tokens: &TokenSigner,
        registry: Addr<Registry>,
    ) -> Result<Option<Self>, String> {
        if !config.enabled() {
            return Ok(None);
        }
        let me = config
            .me()
            .ok_or("a cluster needs MACHINE_ID (this machine's id in PEERS)")?;
        if secret.is_none_or(str::is_empty) {
            return Err("a cluster needs SESSION_SECRET (the same on every machine)".into());
        }
        let statics = config.static_peers();
        let (discovery, peers) = if statics.is_empty() {
            let app = config.fly_app_name.clone().unwrap_or_default();
            (Discovery::FlyDns { app, port }, Vec::new())
        } else {
            if !statics.iter().any(|(id, _)| *id == me) {
                return Err(format!("MACHINE_ID {me:?} is not in PEERS"));
            }
            let peers = statics
                .into_iter()
                .filter(|(id, _)| *id != me)
                .map(|(id, addr)| Peer {
                    tag: tag_of_machine(&id),
                    id,
                    addr,
                    // Until the first probe says otherwise: a fresh machine must not refuse
                    // to route in its first second.
                    alive: true,
                })
                .collect();
            (Discovery::Static, peers)
        };
        Ok(Some(Cluster {
            tag: tag_of_machine(&me),
            me,
            routing: config.routing(),
            key: tokens.derive_key("cluster"),
            peers: RwLock::new(peers),
            discovery,
            probe_every: Duration::from_millis(config.cluster_probe_ms.max(50)),
            registry,
        }))
    }

    /// The peers as last probed (this machine not among them).
    pub fn peers(&self) -> Vec<Peer> {
        self.peers.read().map(|p| p.clone()).unwrap_or_default()
    }

    fn live_peers(&self) -> Vec<Peer> {
        self.peers().into_iter().filter(|p| p.alive).collect()
    }

    /// Where a create, join or resume that passed `hops` machines is served: a join where its
    /// code's session lives, a resume where its token's session lives, a create here — unless
    /// this machine is draining, when it goes to a live peer instead of being refused.
    pub async fn route_request(&self, request: &Request, tokens: &TokenSigner, hops: u8) -> Route {
        let code = match request {
            Request::Create(_) => None,
            Request::Join(join) => Some(join.code.clone()),
            Request::Resume(resume) => tokens.verify(&resume.token).ok().map(|c| c.code),
        };
        match code {
            Some(code) => self.route(&code, hops).await,
            None => self.here_unless_draining(None, hops).await,
        }
    }

    /// Where the session under `code` lives, for a request that has passed `hops` machines.
    ///
    /// Here if it is here. Otherwise its tag's machine when that is another live peer and the
    /// request comes straight from a client (the owner is never asked first: that costs a
    /// round trip on every routed join). Otherwise the first live peer that says it holds it;
    /// none: here, where the join fails or the host's resume restores the session.
    pub async fn route(&self, code: &SessionCode, hops: u8) -> Route {
        if self.holds_here(code).await || hops >= MAX_HOPS {
            return Route::Here;
        }
        if !plausible(code) {
            return self.here_unless_draining(None, hops).await;
        }
        if hops == 0 {
            if let Some(owner) = self.tag_owner(code) {
                return Route::Elsewhere(owner);
            }
        }
        match self.ask_peers(code).await {
            Some((peer, _)) => Route::Elsewhere(peer),
            None => self.here_unless_draining(Some(code), hops).await,
        }
    }

    /// Here, or — when this machine is draining for a stop — a live peer (the code's tag
    /// machine if live), so a deploy never turns a resume or a create into a refusal.
    async fn here_unless_draining(&self, code: Option<&SessionCode>, hops: u8) -> Route {
        if hops >= MAX_HOPS || self.registry.send(Accepting).await.unwrap_or(true) {
            return Route::Here;
        }
        let peers = self.live_peers();
        let tagged = code.and_then(tag_of_code);
        let pick = peers
            .iter()
            .find(|p| Some(p.tag.as_str()) == tagged)
            .or_else(|| peers.first());
        match pick {
            Some(peer) => Route::Elsewhere(peer.clone()),
            None => Route::Here,
        }
    }

    /// The peer holding `code` and its public view (JSON), asking the tag's machine with the
    /// others: for `by-code` when requests are bridged.
    pub async fn find(&self, code: &SessionCode) -> Option<(Peer, String)> {
        if !plausible(code) {
            return None;
        }
        self.ask_peers(code).await
    }

    async fn holds_here(&self, code: &SessionCode) -> bool {
        self.registry
            .send(Holds { code: code.clone() })
            .await
            .ok()
            .flatten()
            .is_some()
    }

    /// The one live peer whose tag the code carries, if it is not this machine's.
    fn tag_owner(&self, code: &SessionCode) -> Option<Peer> {
        let tag = tag_of_code(code)?;
        if tag == self.tag {
            return None;
        }
        let mut owners = self.live_peers().into_iter().filter(|p| p.tag == tag);
        let owner = owners.next()?;
        owners.next().is_none().then_some(owner)
    }

    /// Asks every live peer at once whether it holds `code`; the first yes wins.
    async fn ask_peers(&self, code: &SessionCode) -> Option<(Peer, String)> {
        let path = format!("/internal/cluster/sessions/{}", code.as_str());
        let asks = self.live_peers().into_iter().map(|peer| {
            let path = path.clone();
            let key = self.key.clone();
            async move {
                match wire::get(&peer.addr, &path, &key, PEER_DEADLINE).await {
                    Some((200, body)) => Ok((peer, body)),
                    _ => Err(()),
                }
            }
            .boxed_local()
        });
        let asks: Vec<_> = asks.collect();
        if asks.is_empty() {
            return None;
        }
        select_ok(asks).await.ok().map(|(found, _)| found)
    }

    /// Marks `id` dead at once (a bridge to it just failed), until a probe finds it again.
    pub fn mark_dead(&self, id: &str) {
        if let Ok(mut peers) = self.peers.write() {
            peers
                .iter_mut()
                .filter(|p| p.id == id)
                .for_each(|p| p.alive = false);
        }
    }

    /// Keeps the peer table fresh until the system stops: every `probe_every`, each peer is
    /// asked who it is and whether it takes sessions (on Fly, after re-reading the DNS). A
    /// socket bridged from here hears a drain of this machine like every other open socket
    /// (`drain::OpenSockets`), so nothing here watches for one.
    pub fn start(self: &Arc<Self>) {
        let cluster = Arc::downgrade(self);
        actix_rt::spawn(async move {
            loop {
                let Some(this) = cluster.upgrade() else {
                    return;
                };
                this.probe().await;
                let every = this.probe_every;
                drop(this);
                actix_rt::time::sleep(every).await;
            }
        });
    }

    async fn probe(&self) {
        let candidates: Vec<(Option<String>, String)> = match &self.discovery {
            Discovery::Static => self
                .peers()
                .into_iter()
                .map(|p| (Some(p.id), p.addr))
                .collect(),
            Discovery::FlyDns { app, port } => {
                let name = format!("{app}.internal:{port}");
                match tokio::net::lookup_host(name).await {
                    Ok(addrs) => addrs.map(|a| (None, a.to_string())).collect(),
                    Err(e) => {
                        log::warn!("cluster: resolving {app}.internal failed: {e}");
                        return;
                    }
                }
            }
        };
        let answers = join_all(candidates.into_iter().map(|(expected, addr)| async move {
            let answer = wire::get(&addr, "/internal/cluster/machine", &self.key, PEER_DEADLINE)
                .await
                .filter(|(status, _)| *status == 200)
                .and_then(|(_, body)| serde_json::from_str::<MachineAnswer>(&body).ok());
            (expected, addr, answer)
        }))
        .await;
        let mut next = Vec::new();
        for (expected, addr, answer) in answers {
            let (id, alive) = match (expected, answer) {
                (Some(expected), Some(answer)) if answer.id != expected => {
                    log::warn!(
                        "cluster: {addr} says it is {:?}, PEERS says {expected:?}",
                        answer.id
                    );
                    (expected, false)
                }
                (Some(expected), answer) => (expected, answer.is_some_and(|a| a.accepting)),
                (None, Some(answer)) if answer.id != self.me => (answer.id, answer.accepting),
                // Fly: this machine itself, or an address that did not answer.
                (None, _) => continue,
            };
            next.push(Peer {
                tag: tag_of_machine(&id),
                id,
                addr,
                alive,
            });
        }
        next.sort_by(|a, b| a.id.cmp(&b.id));
        if let Ok(mut peers) = self.peers.write() {
            let before: Vec<(String, bool)> =
                peers.iter().map(|p| (p.id.clone(), p.alive)).collect();
            let after: Vec<(String, bool)> = next.iter().map(|p| (p.id.clone(), p.alive)).collect();
            if before != after {
                log::info!("cluster: peers now {after:?}");
            }
            *peers = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_two_symbols_of_the_alphabet_and_stable() {
        for id in ["a", "b", "3d8d9e4fe57989", ""] {
            let tag = tag_of_machine(id);
            assert_eq!(tag.chars().count(), TAG_LEN);
            assert!(tag.chars().all(|c| ALPHABET.contains(&c)));
            assert_eq!(tag, tag_of_machine(id));
        }
        assert_ne!(tag_of_machine("a"), tag_of_machine("b"));
    }

    #[test]
    fn only_cluster_codes_carry_a_tag() {
        let tagged = SessionCode::generate_after("A7");
        assert_eq!(tag_of_code(&tagged), Some("A7"));
        assert_eq!(tag_of_code(&SessionCode::generate()), None);
        assert!(plausible(&tagged));
        assert!(plausible(&SessionCode::generate()));
        assert!(!plausible(&SessionCode::parse("nope")));
        assert!(!plausible(&SessionCode::parse("ABCDEFGHJ0")));
    }
}
