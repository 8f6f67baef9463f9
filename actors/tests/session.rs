//! Drives the registry and session actors directly, with probe actors standing in for
//! connections: the rules of a session without any socket. Ends with a property test that runs
//! random joins, leaves, disconnects and kicks over several sessions and checks nothing leaks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use familiar_actors::code::SessionCode;
use familiar_actors::ice::FixedIceServers;
use familiar_actors::limits::Limits;
use familiar_actors::metrics::Metrics;
use familiar_actors::protocol::{ClientMessage, Role};
use familiar_actors::registry::{CountSessions, Create, Find, Registry, ResumeRequest};
use familiar_actors::session::{
    Command, Conn, ConnId, Core, Disconnected, GetCensus, Join, JoinError, Leave, Outbound, Session,
};
use familiar_actors::token::TokenSigner;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Records everything a session sends to one connection.
struct Probe {
    log: Arc<Mutex<Vec<Outbound>>>,
}

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Handler<Outbound> for Probe {
    type Result = ();
    fn handle(&mut self, msg: Outbound, _: &mut Context<Self>) {
        self.log.lock().unwrap().push(msg);
    }
}

/// A fake connection: its id, its recipient, and what it received.
struct Peer {
    conn: Conn,
    log: Arc<Mutex<Vec<Outbound>>>,
    addr: Addr<Probe>,
}

impl Peer {
    fn new() -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let addr = Probe { log: log.clone() }.start();
        Peer {
            conn: Conn {
                id: ConnId::next(),
                tx: addr.clone().recipient(),
            },
            log,
            addr,
        }
    }

    /// The JSON frames received so far, drained.
    fn frames(&self) -> Vec<Value> {
        self.log
            .lock()
            .unwrap()
            .drain(..)
            .filter_map(|o| match o {
                Outbound::Frame(text) => serde_json::from_str(&text).ok(),
                _ => None,
            })
            .collect()
    }

    fn types(&self) -> Vec<String> {
        self.frames()
            .iter()
            .map(|f| f["type"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Waits until the probe has handled everything queued to it so far.
    async fn settle(&self) {
        // A round trip through the probe's mailbox proves earlier messages were handled.
        struct Ping;
        impl Message for Ping {
            type Result = ();
        }
        impl Handler<Ping> for Probe {
            type Result = ();
            fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
        }
        self.addr.send(Ping).await.unwrap();
    }
}

fn core(limits: Limits) -> Arc<Core> {
    Arc::new(Core {
        limits,
        ice: Arc::new(FixedIceServers::new(vec![])),
        metrics: Arc::new(Metrics::new()),
        tokens: TokenSigner::new(b"test secret"),
    })
}

fn quick_limits() -> Limits {
    Limits {
        grace_period: Duration::ZERO,
        ..Limits::default()
    }
}

async fn create(registry: &Addr<Registry>, host: &Peer) -> (Addr<Session>, String, String) {
    let (session, joined) = registry
        .send(Create {
            conn: host.conn.clone(),
            home: Arbiter::current(),
            name: Some("Night".into()),
            username: Some("Dee".into()),
            password: None,
            familiar: None,
            resumable: true,
        })
        .await
        .unwrap()
        .unwrap();
    // Round trip through the session: `session_created` was sent before this answer.
    let _ = session.send(GetCensus).await;
    host.settle().await;
    let created = host.frames().remove(0);
    assert_eq!(created["type"], "session_created");
    let code = created["session"]["code"].as_str().unwrap().to_string();
    (session, code, joined.user_id)
}

async fn join(session: &Addr<Session>, peer: &Peer, name: &str) -> Result<String, JoinError> {
    session
        .send(Join {
            conn: peer.conn.clone(),
            role: Role::Guest,
            username: Some(name.into()),
            password: None,
            familiar: Some(json!({"variant": "prism"})),
            resumable: true,
        })
        .await
        .unwrap_or(Err(JoinError::NotFound))
        .map(|j| j.user_id)
}

fn command(peer: &Peer, msg: Value) -> Command {
    Command {
        from: peer.conn.id,
        msg: serde_json::from_value::<ClientMessage>(msg).unwrap(),
        received: std::time::Instant::now(),
    }
}

#[actix::test]
async fn joiner_hears_session_joined_before_anyone_hears_of_it() {
    let registry = Registry::new(core(quick_limits()), vec![]).start();
    let host = Peer::new();
    let (session, _, _) = create(&registry, &host).await;
    let ana = Peer::new();
    join(&session, &ana, "Ana").await.unwrap();
    ana.settle().await;
    host.settle().await;
    let frames = ana.frames();
    assert_eq!(frames[0]["type"], "session_joined");
    assert_eq!(
        frames[0]["session"]["participants"][1]["familiar"]["variant"],
        "prism"
    );
    assert_eq!(host.types(), vec!["guest_joined", "user_joined"]);
}

#[actix::test]
async fn a_session_runs_on_the_arbiter_of_the_connection_that_created_it() {
    // No dedicated pool: the session lives beside its host's connection, so stopping that
    // arbiter ends it, while a session created from here lives on.
    let registry = Registry::new(core(quick_limits()), vec![]).start();
    let elsewhere = Arbiter::new();
    let far_host = Peer::new();
    let (far, _) = registry
        .send(Create {
            conn: far_host.conn.clone(),
            home: elsewhere.handle(),
            name: None,
            username: None,
            password: None,
            familiar: None,
            resumable: true,
        })
        .await
        .unwrap()
        .unwrap();
    let (near, _, _) = create(&registry, &Peer::new()).await;
    assert!(far.connected());
    elsewhere.stop();
    for _ in 0..200 {
        if !far.connected() {
            break;
        }
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        !far.connected(),
        "the session did not run on its host's arbiter"
    );
    assert!(near.connected());
}

#[actix::test]
async fn guests_ice_goes_to_the_host_whatever_the_target() {
    let registry = Registry::new(core(quick_limits()), vec![]).start();
    let host = Peer::new();
    let (session, _, _) = create(&registry, &host).await;
    let (ana, bob) = (Peer::new(), Peer::new());
    join(&session, &ana, "Ana").await.unwrap();
    let bob_id = join(&session, &bob, "Bob").await.unwrap();
    for p in [&host, &ana, &bob] {
        p.settle().await;
        p.frames();
    }
    session
        .send(command(
            &ana,
            json!({"type": "webrtc_ice", "target_user_id": bob_id, "candidate": {"c": 1}}),
        ))
        .await
        .unwrap();
    host.settle().await;
    bob.settle().await;
    let to_host = host.frames();
    assert_eq!(to_host.len(), 1);
    assert_eq!(to_host[0]["type"], "webrtc_ice");
    assert_eq!(to_host[0]["candidate"], json!({"c": 1}));
    assert!(bob.frames().is_empty());
}

#[actix::test]
async fn host_leaving_ends_the_session_and_frees_the_code() {
    let registry = Registry::new(core(quick_limits()), vec![]).start();
    let host = Peer::new();
    let (session, code, host_id) = create(&registry, &host).await;
    let ana = Peer::new();
    join(&session, &ana, "Ana").await.unwrap();
    ana.settle().await;
    ana.frames();
    assert!(session.send(Leave { from: host.conn.id }).await.unwrap());
    ana.settle().await;
    let frames = ana.frames();
    assert_eq!(frames[0]["type"], "user_left");
    assert_eq!(frames[0]["user_id"], host_id.as_str());
    assert_eq!(frames[0]["reason"], "host_left");
    assert_eq!(frames[1]["type"], "session_ended");
    // The registry hears of the stop and forgets the code.
    for _ in 0..100 {
        if registry.send(CountSessions).await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let found = registry
        .send(Find {
            code: SessionCode::parse(&code),
            ip: None,
        })
        .await
        .unwrap();
    assert_eq!(found.err(), Some(JoinError::NotFound));
}

#[actix::test]
async fn kicked_guest_cannot_resume() {
    let limits = Limits {
        grace_period: Duration::from_secs(30),
        ..Limits::default()
    };
    let registry = Registry::new(core(limits), vec![]).start();
    let host = Peer::new();
    let (session, _, _) = create(&registry, &host).await;
    let ana = Peer::new();
    let ana_id = join(&session, &ana, "Ana").await.unwrap();
    ana.settle().await;
    let token = ana.frames()[0]["resume_token"]
        .as_str()
        .unwrap()
        .to_string();
    session
        .send(command(
            &host,
            json!({"type": "kick", "target_user_id": ana_id}),
        ))
        .await
        .unwrap();
    let again = Peer::new();
    let resumed = registry
        .send(ResumeRequest {
            conn: again.conn.clone(),
            home: Arbiter::current(),
            token,
            last_seq: None,
            ip: None,
        })
        .await
        .unwrap();
    assert_eq!(resumed.err(), Some(JoinError::Kicked));
}

#[actix::test]
async fn full_session_refuses_joins() {
    let limits = Limits {
        max_participants: 2,
        ..quick_limits()
    };
    let registry = Registry::new(core(limits), vec![]).start();
    let host = Peer::new();
    let (session, _, _) = create(&registry, &host).await;
    join(&session, &Peer::new(), "Ana").await.unwrap();
    assert_eq!(
        join(&session, &Peer::new(), "Bob").await.err(),
        Some(JoinError::SessionFull)
    );
}

/// One step of the random walk.
#[derive(Debug, Clone)]
enum Op {
    Create,
    Join { peer: usize, session: usize },
    Leave { peer: usize },
    Disconnect { peer: usize },
    Kick { host: usize, target: usize },
    Chat { peer: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Create),
        4 => (0..12usize, 0..4usize).prop_map(|(peer, session)| Op::Join { peer, session }),
        2 => (0..12usize).prop_map(|peer| Op::Leave { peer }),
        2 => (0..12usize).prop_map(|peer| Op::Disconnect { peer }),
        1 => (0..4usize, 0..12usize).prop_map(|(host, target)| Op::Kick { host, target }),
        1 => (0..12usize).prop_map(|peer| Op::Chat { peer }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn nothing_leaks(ops in proptest::collection::vec(op(), 1..60)) {
        actix::System::new().block_on(async move {
            let core = core(Limits { max_sessions: 4, max_participants: 5, ..quick_limits() });
            let metrics = core.metrics.clone();
            let registry = Registry::new(core, vec![]).start();
            let peers: Vec<Peer> = (0..12).map(|_| Peer::new()).collect();
            // Per peer: the session it is in and its user id.
            let mut member_of: Vec<Option<(Addr<Session>, String)>> = vec![None; 12];
            let mut hosts: Vec<(Addr<Session>, usize)> = Vec::new();
            let mut next_host = 0usize;
            for op in ops {
                match op {
                    Op::Create => {
                        let Some(host) = (next_host..12).find(|p| member_of[*p].is_none()) else { continue };
                        next_host = host + 1;
                        let result = registry.send(Create {
                            conn: peers[host].conn.clone(), home: Arbiter::current(),
                            name: None, username: None,
                            password: None, familiar: None, resumable: true,
                        }).await.unwrap();
                        if let Ok((session, joined)) = result {
                            member_of[host] = Some((session.clone(), joined.user_id));
                            hosts.push((session, host));
                        }
                    }
                    Op::Join { peer, session } => {
                        if member_of[peer].is_some() || hosts.is_empty() { continue }
                        let (addr, _) = hosts[session % hosts.len()].clone();
                        if let Ok(user_id) = join(&addr, &peers[peer], "P").await {
                            member_of[peer] = Some((addr, user_id));
                        }
                    }
                    Op::Leave { peer } => {
                        if let Some((addr, _)) = member_of[peer].take() {
                            let _ = addr.send(Leave { from: peers[peer].conn.id }).await;
                        }
                    }
                    Op::Disconnect { peer } => {
                        if let Some((addr, _)) = member_of[peer].take() {
                            let _ = addr.send(Disconnected { from: peers[peer].conn.id }).await;
                        }
                    }
                    Op::Kick { host, target } => {
                        if hosts.is_empty() { continue }
                        let (addr, host_peer) = hosts[host % hosts.len()].clone();
                        let target_id = member_of[target].as_ref().map(|(_, id)| id.clone()).unwrap_or_default();
                        let _ = addr.send(command(&peers[host_peer], json!({"type": "kick", "target_user_id": target_id}))).await;
                        // A kicked member is gone from its session: it got the 1000 close.
                        peers[target].settle().await;
                        let mut log = peers[target].log.lock().unwrap();
                        if log.iter().any(|o| matches!(o, Outbound::Close { code: 1000, .. })) {
                            member_of[target] = None;
                        }
                        log.clear();
                    }
                    Op::Chat { peer } => {
                        if let Some((addr, _)) = &member_of[peer] {
                            let _ = addr.send(command(&peers[peer], json!({"type": "chat", "message": "hi"}))).await;
                        }
                    }
                }
                // Sessions whose host left have ended: their members are no longer members.
                for slot in member_of.iter_mut() {
                    if slot.as_ref().is_some_and(|(addr, _)| !addr.connected()) {
                        *slot = None;
                    }
                }
                // The model and the actors agree on every live session's size.
                for (addr, _) in hosts.iter().filter(|(a, _)| a.connected()) {
                    let expected = member_of.iter().flatten().filter(|(a, _)| a == addr).count();
                    if let Ok(census) = addr.send(GetCensus).await {
                        assert_eq!(census.members, expected);
                    }
                }
            }
            // Everyone goes: then nothing may remain.
            for (peer, slot) in member_of.iter_mut().enumerate() {
                if let Some((addr, _)) = slot.take() {
                    let _ = addr.send(Disconnected { from: peers[peer].conn.id }).await;
                }
            }
            for _ in 0..200 {
                if registry.send(CountSessions).await.unwrap() == 0 && metrics.sessions_live.get() == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            assert_eq!(registry.send(CountSessions).await.unwrap(), 0, "a code leaked");
            assert_eq!(metrics.sessions_live.get(), 0, "a session actor leaked");
            assert_eq!(metrics.participants_live.get(), 0, "a participant leaked");
        });
    }
}
