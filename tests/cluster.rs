//! Many machines as one relay, end to end: three relay processes (the real binary) with a
//! static peer list behind the stand-in for Fly's proxy. A guest page's socket is replayed to
//! the session's machine before the upgrade; an old-style `join` on the wrong machine is
//! bridged, frames unchanged; a machine killed with SIGKILL has its sessions restored on the
//! others under the same code, and guests find them there; a graceful stop (a deploy) does the
//! same. Also: routing by bridge alone behind a plain TCP proxy, and a single machine without
//! cluster settings exactly as before.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::fly_proxy::FlyProxy;
use common::*;
use familiar_actors::code::SessionCode;
use familiar_sessions::cluster::{tag_of_code, tag_of_machine, Routing};
use serde_json::{json, Value};

const SECRET: &str = "cluster test secret";

/// One relay process.
struct Machine {
    id: String,
    addr: SocketAddr,
    child: Child,
}

impl Machine {
    fn sigkill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the machine as Fly does for a deploy, and waits for its drain to end.
    fn sigterm(&mut self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid fits pid_t");
        // SAFETY: kill(2) with a pid this test spawned and has not reaped; no memory is shared.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        self.sigkill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts relay process `id` on `addr` in a cluster of `peers`.
fn spawn_machine(id: &str, addr: SocketAddr, peers: &str) -> Machine {
    let child = Command::new(env!("CARGO_BIN_EXE_familiar-sessions"))
        .env_clear()
        .env("HOST", "127.0.0.1")
        .env("PORT", addr.port().to_string())
        .env("METRICS_PORT", "0")
        .env("STATIC_DIR", "/nonexistent")
        .env("STUN_URLS", "")
        .env("SESSION_SECRET", SECRET)
        .env("PEERS", peers)
        .env("MACHINE_ID", id)
        .env("CLUSTER_ROUTING", "replay")
        .env("CLUSTER_PROBE_MS", "200")
        .env("RESTART_RETRY_AFTER_MS", "100")
        .env("SHUTDOWN_DRAIN_MS", "500")
        .env("WORKERS", "1")
        // Every test client shares one loopback address: the per-address caps raised, as
        // `test_config` raises them for in-process relays.
        .env("MAX_SOCKETS_PER_IP", "50000")
        .env("MAX_SESSIONS_PER_IP", "10000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the relay binary starts");
    Machine {
        id: id.to_string(),
        addr,
        child,
    }
}

/// Three relay processes behind the stand-in proxy.
struct ProcessCluster {
    machines: Vec<Machine>,
    proxy: FlyProxy,
}

impl ProcessCluster {
    async fn start() -> Self {
        let addrs: Vec<(String, SocketAddr)> = (0..3)
            .map(|i| {
                let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
                (format!("m{i}"), addr)
            })
            .collect();
        let peers = addrs
            .iter()
            .map(|(id, a)| format!("{id}={a}"))
            .collect::<Vec<_>>()
            .join(",");
        let machines: Vec<Machine> = addrs
            .iter()
            .map(|(id, addr)| spawn_machine(id, *addr, &peers))
            .collect();
        for m in &machines {
            wait_healthy(m.addr).await;
        }
        for m in &machines {
            wait_all_peers_alive(m.addr, machines.len() - 1).await;
        }
        let proxy = FlyProxy::start(addrs);
        ProcessCluster { machines, proxy }
    }

    fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/sessions/ws", self.proxy.addr)
    }

    /// The machine whose tag `code` carries.
    fn owner_of(&self, code: &str) -> usize {
        let code = SessionCode::parse(code);
        let tag = tag_of_code(&code).expect("a cluster code has a tag");
        self.machines
            .iter()
            .position(|m| tag_of_machine(&m.id) == tag)
            .expect("the tag of a machine")
    }
}

async fn wait_healthy(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok()
            && http_get(addr, "/health").await.0 == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "relay at {addr} did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the machine at `addr` has seen `peers` peers answer its probes.
async fn wait_all_peers_alive(addr: SocketAddr, peers: usize) {
    let key = familiar_actors::token::TokenSigner::new(SECRET.as_bytes()).derive_key("cluster");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = familiar_sessions::cluster::wire::get(
            &addr.to_string(),
            "/internal/cluster/machine",
            &key,
            WAIT,
        )
        .await;
        let alive = answer
            .and_then(|(_, body)| serde_json::from_str::<Value>(&body).ok())
            .and_then(|v| v["peers"].as_array().cloned())
            .map_or(0, |peers| {
                peers.iter().filter(|p| p["alive"] == true).count()
            });
        if alive == peers {
            return;
        }
        assert!(Instant::now() < deadline, "{addr} never saw its peers");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A host (declaring `resume`, as our host page does) through the proxy: (client, code, token).
async fn resumable_host_at(url: &str) -> (Client, String, String) {
    let mut host = Client::connect(url).await;
    host.send(
        json!({"type": "create", "name": "Friday", "username": "Dee", "capabilities": ["resume"]}),
    )
    .await;
    let created = host.expect("session_created").await;
    let token = created["resume_token"].as_str().unwrap().to_string();
    (host, code_of(&created), token)
}

/// A guest as our guest page joins: the code in the URL, `resume` declared.
async fn page_guest(cluster: &ProcessCluster, code: &str) -> (Client, String) {
    let mut guest = Client::connect(&format!("{}?code={code}", cluster.ws_url())).await;
    guest
        .send(json!({"type": "join_guest", "code": code, "guest_name": "Ana", "capabilities": ["resume"]}))
        .await;
    let joined = guest.expect("session_joined").await;
    (guest, joined["resume_token"].as_str().unwrap().to_string())
}

/// Resumes as our client does: a fresh socket (code in the URL when given), `resume`, and on
/// `host_not_back` the same request again on the same socket after the hinted delay.
async fn resume_at(url: &str, token: &str) -> (Client, Value) {
    let mut client = connect_retrying(url).await;
    loop {
        client.send(json!({"type": "resume", "token": token})).await;
        let msg = client.recv().await;
        match msg["type"].as_str() {
            Some("session_resumed") => return (client, msg),
            Some("error") if msg["code"] == "host_not_back" => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => panic!("unexpected answer to resume: {msg}"),
        }
    }
}

/// Opens a socket as our client does after a drop: retrying with a short backoff while the
/// proxy still answers 502 (it replayed to a machine that just died, before the others noticed).
async fn connect_retrying(url: &str) -> Client {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok((ws, _)) = tokio_tungstenite::connect_async(url).await {
            return Client { ws };
        }
        assert!(Instant::now() < deadline, "no socket to {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for the socket to end without a close frame from a live relay (its machine died).
async fn expect_dropped(client: &mut Client) {
    let _ = client.expect_closed().await;
}

#[tokio::test]
async fn a_guest_page_socket_is_replayed_to_the_sessions_machine() {
    let cluster = ProcessCluster::start().await;
    let (mut host, code, _) = resumable_host_at(&cluster.ws_url()).await;
    assert_eq!(
        code.len(),
        12,
        "a cluster code is a tag and ten random symbols"
    );
    let owner = cluster.owner_of(&code);
    // Straight at a machine that is not the owner, as the proxy would first send it.
    let other = &cluster.machines[(owner + 1) % 3];
    let (status, _, headers) =
        http_get(other.addr, &format!("/api/v1/sessions/ws?code={code}")).await;
    assert_eq!(status, 409);
    let replay = headers
        .iter()
        .find(|(k, _)| k == "fly-replay")
        .map(|(_, v)| v.clone());
    assert_eq!(
        replay,
        Some(format!("instance={}", cluster.machines[owner].id))
    );
    let (status, _, headers) =
        http_get(other.addr, &format!("/api/v1/sessions/by-code/{code}")).await;
    assert_eq!(status, 409);
    assert!(headers
        .iter()
        .any(|(k, v)| k == "fly-replay" && v.contains(&cluster.machines[owner].id)));
    // Through the proxy: wherever a guest lands, it ends up in the session.
    for _ in 0..4 {
        let (mut guest, _) = page_guest(&cluster, &code).await;
        host.expect("guest_joined").await;
        host.expect("user_joined").await;
        guest.send(json!({"type": "leave"})).await;
        guest.expect("left").await;
        host.expect("user_left").await;
    }
    let (status, body, _) = http_get(
        cluster.proxy.addr,
        &format!("/api/v1/sessions/by-code/{code}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&code), "{body}");
}

#[tokio::test]
async fn an_old_style_join_on_the_wrong_machine_is_bridged_frames_unchanged() {
    let cluster = ProcessCluster::start().await;
    let (mut host, code, _) = resumable_host_at(&cluster.ws_url()).await;
    let owner = cluster.owner_of(&code);
    let elsewhere = &cluster.machines[(owner + 2) % 3];
    let at_owner = &cluster.machines[owner];
    // The Familiar app: bare URL, `join` in the first frame, on the wrong machine.
    let mut bridged = Client::connect(&format!("ws://{}/api/v1/sessions/ws", elsewhere.addr)).await;
    bridged
        .send(json!({"type": "join", "code": code.to_lowercase(), "username": "Bo"}))
        .await;
    let joined = bridged.expect("session_joined").await;
    assert_eq!(code_of(&joined), code);
    assert_eq!(joined["session"]["participants"][1]["role"], "listener");
    host.expect("guest_joined").await;
    host.expect("user_joined").await;
    // And one straight on the owner, to compare what both receive byte for byte.
    let mut direct = Client::connect(&format!("ws://{}/api/v1/sessions/ws", at_owner.addr)).await;
    direct
        .send(json!({"type": "join", "code": code, "username": "Cy"}))
        .await;
    direct.expect("session_joined").await;
    host.expect("guest_joined").await;
    host.expect("user_joined").await;
    bridged.expect("user_joined").await;
    host.send(json!({"type": "chat", "message": "through the bridge"}))
        .await;
    host.send(json!({"type": "playback", "track_id": "t1", "is_playing": true, "position_ms": 5}))
        .await;
    for kind in ["chat", "playback_update"] {
        let via_bridge = raw_text(&mut bridged).await;
        let straight = raw_text(&mut direct).await;
        assert_eq!(via_bridge, straight, "{kind} differs through the bridge");
        assert!(via_bridge.contains(kind), "{via_bridge}");
    }
    host.expect("chat").await;
    // A client error comes back as the owner words it, and the kick closes as it would.
    bridged
        .send(json!({"type": "playback", "is_playing": false}))
        .await;
    assert_eq!(
        bridged.expect("error").await["message"],
        "Only the host can control playback"
    );
    let bo = joined["your_user_id"].clone();
    host.send(json!({"type": "kick", "target_user_id": bo}))
        .await;
    bridged.expect("user_kicked").await;
    assert_eq!(bridged.expect_close().await, (1000, "kicked".to_string()));
}

/// The next text frame exactly as sent.
async fn raw_text(client: &mut Client) -> String {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(WAIT, client.ws.next())
            .await
            .expect("a frame in time")
        {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_killed_machines_sessions_come_back_on_the_others_under_the_same_code() {
    let mut cluster = ProcessCluster::start().await;
    let victim = 1;
    // Sessions on every machine, a guest in each; at least two on the victim.
    let mut sessions: Vec<(Client, String, String, Client, String)> = Vec::new();
    while sessions
        .iter()
        .filter(|(_, code, _, _, _)| cluster.owner_of(code) == victim)
        .count()
        < 2
    {
        let (mut host, code, host_token) = resumable_host_at(&cluster.ws_url()).await;
        let (guest, guest_token) = page_guest(&cluster, &code).await;
        host.expect("guest_joined").await;
        host.expect("user_joined").await;
        sessions.push((host, code, host_token, guest, guest_token));
        assert!(sessions.len() < 40, "no session landed on the victim");
    }
    let killed_at = Instant::now();
    cluster.machines[victim].sigkill();
    let mut restored = 0;
    for (mut host, code, host_token, mut guest, guest_token) in sessions {
        if cluster.owner_of(&code) != victim {
            // Untouched: still relaying.
            host.send(json!({"type": "chat", "message": "still here"}))
                .await;
            guest.recv_until("chat").await;
            continue;
        }
        expect_dropped(&mut host).await;
        expect_dropped(&mut guest).await;
        // The host page reconnects without a code: wherever it lands, the session is restored.
        let (mut host, resumed) = resume_at(&cluster.ws_url(), &host_token).await;
        assert_eq!(code_of(&resumed), code);
        // The guest page names the code: routed to wherever the session is now.
        let url = format!("{}?code={code}", cluster.ws_url());
        let (mut guest, resumed) = resume_at(&url, &guest_token).await;
        assert_eq!(code_of(&resumed), code);
        // Restored sessions start with their host alone: the guest comes back as a newcomer.
        host.recv_until("guest_joined").await;
        guest.send(json!({"type": "chat", "message": "back"})).await;
        assert_eq!(host.recv_until("chat").await["message"], "back");
        // A new old-style listener finds it too, from any machine.
        let mut late = Client::connect(&cluster.ws_url()).await;
        late.send(json!({"type": "join", "code": code, "username": "Late"}))
            .await;
        assert_eq!(code_of(&late.expect("session_joined").await), code);
        restored += 1;
    }
    assert!(restored >= 2);
    println!(
        "machine loss: {restored} sessions back on the other machines, same codes, {} ms after the kill",
        killed_at.elapsed().as_millis()
    );
}

#[tokio::test]
async fn a_rolling_deploy_ends_no_session() {
    let mut cluster = ProcessCluster::start().await;
    let (mut host, code, host_token) = resumable_host_at(&cluster.ws_url()).await;
    let (guest, guest_token) = page_guest(&cluster, &code).await;
    host.expect("guest_joined").await;
    host.expect("user_joined").await;
    let peers = cluster
        .machines
        .iter()
        .map(|m| format!("{}={}", m.id, m.addr))
        .collect::<Vec<_>>()
        .join(",");
    let guest_url = format!("{}?code={code}", cluster.ws_url());
    let (mut host, mut guest) = (
        (host, host_token, cluster.ws_url()),
        (guest, guest_token, guest_url),
    );
    // Each machine in turn: SIGTERM (the drain), then the new version on the same address.
    for i in 0..3 {
        cluster.machines[i].sigterm();
        // The stopped machine is gone: whoever reached the session through it (as its holder
        // or as the edge of a bridge) was told `server_restarting` and resumes elsewhere.
        for (client, token, url) in [&mut host, &mut guest] {
            if !still_connected(client).await {
                let (back, resumed) = resume_at(url, token).await;
                assert_eq!(code_of(&resumed), code);
                *token = resumed["resume_token"].as_str().unwrap().to_string();
                *client = back;
            }
        }
        let (id, addr) = (cluster.machines[i].id.clone(), cluster.machines[i].addr);
        cluster.machines[i] = spawn_machine(&id, addr, &peers);
        wait_healthy(addr).await;
        wait_all_peers_alive(addr, 2).await;
        let message = format!("after machine {i}");
        guest
            .0
            .send(json!({"type": "chat", "message": message}))
            .await;
        assert_eq!(host.0.recv_until("chat").await["message"], message);
        assert_eq!(guest.0.recv_until("chat").await["message"], message);
    }
}

/// Whether `client`'s socket still reaches its session: a `sync_request` answered, rather than
/// `server_restarting`, a close or a reset (decided by the relay, no timing involved).
async fn still_connected(client: &mut Client) -> bool {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let request = Message::text(json!({"type": "sync_request"}).to_string());
    if client.ws.send(request).await.is_err() {
        return false;
    }
    loop {
        match tokio::time::timeout(WAIT, client.ws.next())
            .await
            .expect("an answer in time")
        {
            Some(Ok(Message::Text(text))) => {
                let msg: Value = serde_json::from_str(&text).unwrap();
                match msg["type"].as_str() {
                    Some("sync_response") => return true,
                    Some("server_restarting") => return false,
                    _ => continue,
                }
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            _ => return false,
        }
    }
}

/// In-process machines routed by bridge alone, behind the stand-in used as a plain TCP proxy
/// (a relay in bridge mode never answers `fly-replay`).
fn bridge_only_cluster() -> TestServer {
    let mut config = test_config();
    config.session_secret = Some(SECRET.into());
    TestServer::start_cluster_routed(config, 3, Routing::Bridge)
}

#[tokio::test]
async fn behind_a_plain_tcp_proxy_the_bridge_alone_routes_everything() {
    let server = bridge_only_cluster();
    let (mut host, created) = common::host(&server).await;
    let code = code_of(&created);
    for _ in 0..4 {
        let (mut guest, _) = common::guest(&server, &code, "Ana").await;
        host.expect("guest_joined").await;
        host.expect("user_joined").await;
        guest.send(json!({"type": "chat", "message": "hi"})).await;
        assert_eq!(guest.expect("chat").await["message"], "hi");
        host.expect("chat").await;
        guest.send(json!({"type": "leave"})).await;
        guest.expect("left").await;
        host.expect("user_left").await;
        // by-code answers from any machine, with the owner's view.
        let (status, body, _) = server
            .get(&format!("/api/v1/sessions/by-code/{code}"))
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"participant_count\":1"), "{body}");
    }
    let proxy = &server.cluster.as_ref().unwrap().proxy;
    assert_eq!(proxy.replays(), 0, "nothing asked the proxy to replay");
}

#[tokio::test]
async fn a_single_machine_without_cluster_settings_is_unchanged() {
    let server = TestServer::start_with(|_| {});
    let (_host, created) = common::host(&server).await;
    assert_eq!(code_of(&created).len(), 10, "no tag without a cluster");
    // The cluster's endpoints do not exist: the same answer as any unknown path.
    let unknown = server.get("/internal/nothing").await;
    let internal = server.get("/internal/cluster/machine").await;
    assert_eq!((internal.0, internal.1), (unknown.0, unknown.1));
}

#[tokio::test]
async fn internal_endpoints_answer_only_the_cluster_key() {
    let server = bridge_only_cluster();
    let machine = server.cluster.as_ref().unwrap().machines[0].addr;
    let (status, _, _) = http_get(machine, "/internal/cluster/machine").await;
    assert_eq!(status, 404);
    let (status, _, _) = http_get(machine, "/internal/cluster/sessions/ABCDEFGHJKMN").await;
    assert_eq!(status, 404);
}
