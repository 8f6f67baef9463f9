//! Test harness: runs the real relay in-process on `127.0.0.1:0` (its own thread and actix
//! system, real sockets) and speaks real WebSockets to it with tokio-tungstenite.
//!
//! In cluster mode ([`cluster_mode`]: the `cluster_suite` test target) every "server" is three
//! relay machines with a static peer list behind the stand-in for Fly's proxy
//! ([`fly_proxy`]): each connection lands on a random machine, and the suites run unchanged.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use familiar_sessions::config::Config;
use familiar_sessions::{listener, server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub mod contract;
pub mod fly_proxy;

/// Machines per test cluster.
pub const CLUSTER_MACHINES: usize = 3;

/// True when this test binary runs every relay as a cluster: the `cluster_suite` target (its
/// binary is named after it), or any suite with `FAMILIAR_TEST_CLUSTER=1`.
pub fn cluster_mode() -> bool {
    static MODE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MODE.get_or_init(|| {
        std::env::var("FAMILIAR_TEST_CLUSTER").is_ok_and(|v| v == "1")
            || std::env::current_exe().is_ok_and(|exe| {
                exe.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("cluster_suite"))
            })
    })
}

/// True (and says so) in cluster mode for a test of `limit`, which each machine keeps for
/// itself (docs/operations.md): such a test runs against one relay only.
pub fn per_machine(limit: &str) -> bool {
    if cluster_mode() {
        eprintln!("{limit} is per machine: this test runs against a single relay");
    }
    cluster_mode()
}

/// The machines of a cluster-mode server and the proxy in front of them.
pub struct Machines {
    pub machines: Vec<TestServer>,
    pub proxy: fly_proxy::FlyProxy,
}

/// How long a test waits for a message that must come.
pub const WAIT: Duration = Duration::from_secs(5);

/// A relay running in this process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Cluster mode: the machines behind the proxy at `addr`.
    pub cluster: Option<Machines>,
}

/// The configuration tests start from: no STUN (nothing leaves this machine), no static files,
/// two workers, and sessions beside their host's connection as in production (the dedicated
/// session-thread mode has its own tests in limits.rs). Every client of a test is 127.0.0.1, and
/// loopback gets no exemption from the per-address caps, so they are raised here past anything
/// a test opens; abuse.rs shrinks them to test them.
pub fn test_config() -> Config {
    let mut config = Config::from_env().expect("a valid environment");
    config.stun_urls = vec![];
    config.static_dir = "/nonexistent".into();
    config.session_threads = 0;
    config.workers = 2;
    config.shutdown_drain_ms = 500;
    config.max_sockets_per_ip = 50_000;
    config.max_sessions_per_ip = 10_000;
    config
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// Starts a relay with `configure` applied to [`test_config`].
    pub fn start_with(configure: impl FnOnce(&mut Config)) -> Self {
        let mut config = test_config();
        configure(&mut config);
        Self::start_config(config)
    }

    pub fn start_config(config: Config) -> Self {
        if cluster_mode() {
            return Self::start_cluster(config, CLUSTER_MACHINES);
        }
        // Bound as the binary binds them (explicit backlog), not with std's fixed 128.
        let listener = listener::bind("127.0.0.1", 0, config.listen_backlog).unwrap();
        let metrics_listener = listener::bind("127.0.0.1", 0, config.listen_backlog).unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics_addr = metrics_listener.local_addr().unwrap();
        Self::start_on(config, listener, metrics_listener, addr, metrics_addr)
    }

    /// Starts a relay on `addr` (to restart one on the port a previous one used).
    pub fn start_at(config: Config, addr: SocketAddr) -> Self {
        let deadline = std::time::Instant::now() + WAIT;
        let listener = loop {
            match listener::bind(&addr.ip().to_string(), addr.port(), config.listen_backlog) {
                Ok(l) => break l,
                Err(e) if std::time::Instant::now() > deadline => panic!("rebind {addr}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        let metrics_listener = listener::bind("127.0.0.1", 0, config.listen_backlog).unwrap();
        let metrics_addr = metrics_listener.local_addr().unwrap();
        Self::start_on(config, listener, metrics_listener, addr, metrics_addr)
    }

    fn start_on(
        config: Config,
        listener: TcpListener,
        metrics_listener: TcpListener,
        addr: SocketAddr,
        metrics_addr: SocketAddr,
    ) -> Self {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let shutdown = async {
                    let _ = rx.await;
                };
                server::run(config, listener, Some(metrics_listener), shutdown)
                    .await
                    .unwrap();
            });
        });
        TestServer {
            addr,
            metrics_addr,
            shutdown: Some(tx),
            thread: Some(thread),
            cluster: None,
        }
    }

    /// `n` machines with `config`, a static peer list (`m0`, `m1`, …) and replay routing,
    /// behind the stand-in proxy; `addr` is the proxy's. Without a `SESSION_SECRET` they get
    /// one: a cluster needs it.
    pub fn start_cluster(config: Config, n: usize) -> Self {
        Self::start_cluster_routed(config, n, familiar_sessions::cluster::Routing::Replay)
    }

    /// As [`TestServer::start_cluster`], with `routing` (bridge: the proxy is then no more
    /// than a TCP proxy, since no machine answers `fly-replay`).
    pub fn start_cluster_routed(
        config: Config,
        n: usize,
        routing: familiar_sessions::cluster::Routing,
    ) -> Self {
        let listeners: Vec<TcpListener> = (0..n)
            .map(|_| listener::bind("127.0.0.1", 0, config.listen_backlog).unwrap())
            .collect();
        let ids: Vec<(String, SocketAddr)> = listeners
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("m{i}"), l.local_addr().unwrap()))
            .collect();
        let peers: Vec<String> = ids.iter().map(|(id, a)| format!("{id}={a}")).collect();
        let machines = listeners
            .into_iter()
            .zip(&ids)
            .map(|(listener, (id, addr))| {
                let mut config = config.clone();
                config.cluster.peers = peers.clone();
                config.cluster.machine_id = Some(id.clone());
                config.cluster.cluster_routing = routing;
                config.cluster.cluster_probe_ms = 200;
                if config.session_secret.is_none() {
                    config.session_secret = Some("cluster-suite-secret".into());
                }
                let metrics_listener =
                    listener::bind("127.0.0.1", 0, config.listen_backlog).unwrap();
                let metrics_addr = metrics_listener.local_addr().unwrap();
                Self::start_on(config, listener, metrics_listener, *addr, metrics_addr)
            })
            .collect::<Vec<_>>();
        let proxy = fly_proxy::FlyProxy::start(ids);
        TestServer {
            addr: proxy.addr,
            metrics_addr: machines[0].metrics_addr,
            shutdown: None,
            thread: None,
            cluster: Some(Machines { machines, proxy }),
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/sessions/ws", self.addr)
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A connected WebSocket client.
    pub async fn client(&self) -> Client {
        Client::connect(&self.ws_url()).await
    }

    /// Triggers the graceful shutdown and waits until the server has stopped.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        if let Some(cluster) = &mut self.cluster {
            cluster.machines.iter_mut().for_each(TestServer::begin_stop);
            cluster.machines.iter_mut().for_each(TestServer::stop_inner);
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Triggers shutdown without waiting (the caller watches its clients meanwhile).
    pub fn begin_stop(&mut self) {
        if let Some(cluster) = &mut self.cluster {
            cluster.machines.iter_mut().for_each(TestServer::begin_stop);
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// `GET path` on the public port: (status, body).
    pub async fn get(&self, path: &str) -> (u16, String, Vec<(String, String)>) {
        http_get(self.addr, path).await
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        http_get(self.metrics_addr, "/metrics").await.1
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// A minimal HTTP/1.1 GET over a raw socket: (status, body, headers lower-cased).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String, Vec<(String, String)>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("http response in time")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body, headers)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A WebSocket client speaking JSON frames.
pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Client { ws }
    }

    pub async fn send(&mut self, value: Value) {
        self.ws
            .send(Message::text(value.to_string()))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.ws.send(message).await.unwrap();
    }

    /// The next JSON frame (pings and pongs skipped); panics on close or timeout.
    pub async fn recv(&mut self) -> Value {
        self.recv_within(WAIT).await
    }

    /// The next frame, which must have `type` = `kind`.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let msg = self.recv().await;
        assert_eq!(msg["type"], kind, "unexpected message: {msg}");
        msg
    }

    /// Skips frames until one of `type` = `kind`.
    pub async fn recv_until(&mut self, kind: &str) -> Value {
        loop {
            let msg = self.recv().await;
            if msg["type"] == kind {
                return msg;
            }
        }
    }

    /// Waits for the server's close frame: (code, reason).
    pub async fn expect_close(&mut self) -> (u16, String) {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a close in time");
            match next {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (u16::from(frame.code), frame.reason.to_string())
                }
                Some(Ok(Message::Close(None))) => {
                    return (u16::from(CloseCode::Status), String::new())
                }
                Some(Ok(Message::Text(_)))
                | Some(Ok(Message::Ping(_)))
                | Some(Ok(Message::Pong(_))) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }

    /// Proves nothing else is queued for this member: a `sync_request` must be answered by
    /// the very next frame.
    pub async fn assert_nothing_pending(&mut self) {
        self.send(json!({"type": "sync_request"})).await;
        let msg = self.recv().await;
        assert_eq!(
            msg["type"], "sync_response",
            "unexpected pending message: {msg}"
        );
    }
}

/// A host with a fresh session, speaking exactly the contract (as the Familiar app does: no
/// capabilities, so it gets no grace period): (client, session_created message).
pub async fn host(server: &TestServer) -> (Client, Value) {
    host_declaring(server, json!(null)).await
}

/// A host that declared the `resume` capability (as our host page does).
pub async fn resumable_host(server: &TestServer) -> (Client, Value) {
    host_declaring(server, json!(["resume"])).await
}

/// A host whose `create` carries `capabilities` (omitted when null).
pub async fn host_declaring(server: &TestServer, capabilities: Value) -> (Client, Value) {
    let mut c = server.client().await;
    let mut create = json!({"type": "create", "name": "Friday", "username": "Dee"});
    if !capabilities.is_null() {
        create["capabilities"] = capabilities;
    }
    c.send(create).await;
    let created = c.expect("session_created").await;
    (c, created)
}

/// A host and one guest in a fresh session, with the host's `guest_joined` / `user_joined`
/// already read: (host, guest, session_created).
pub async fn host_and_guest(server: &TestServer, name: &str) -> (Client, Client, Value) {
    let (mut h, created) = host(server).await;
    let code = created["session"]["code"].as_str().unwrap().to_string();
    let (g, _) = guest(server, &code, name).await;
    h.expect("guest_joined").await;
    h.expect("user_joined").await;
    (h, g, created)
}

/// A guest joined to `code`, speaking exactly the contract (as older guest pages do: no
/// capabilities): (client, session_joined message).
pub async fn guest(server: &TestServer, code: &str, name: &str) -> (Client, Value) {
    guest_declaring(server, code, name, json!(null)).await
}

/// A guest that declared the `resume` capability (as our guest page does).
pub async fn resumable_guest(server: &TestServer, code: &str, name: &str) -> (Client, Value) {
    guest_declaring(server, code, name, json!(["resume"])).await
}

/// A guest whose `join_guest` carries `capabilities` (omitted when null).
pub async fn guest_declaring(
    server: &TestServer,
    code: &str,
    name: &str,
    capabilities: Value,
) -> (Client, Value) {
    // In a cluster our guest page names the code in the URL, so the proxy routes it; every
    // other client here speaks as the Familiar app and older pages do, and is bridged.
    let mut c = if cluster_mode() {
        Client::connect(&format!("{}?code={code}", server.ws_url())).await
    } else {
        server.client().await
    };
    let mut join = json!({"type": "join_guest", "code": code, "guest_name": name});
    if !capabilities.is_null() {
        join["capabilities"] = capabilities;
    }
    c.send(join).await;
    let joined = c.expect("session_joined").await;
    (c, joined)
}

// ---- Helpers for the contract suites (protocol, limits, lifecycle, http_routes). ----

/// How long a test waits for an answer that needs an argon2 hash or check (slow in debug builds).
pub const SLOW_WAIT: Duration = Duration::from_secs(30);

/// Opens the WebSocket with extra request headers (`Origin`, `Fly-Client-IP`, …). `Err` carries
/// the HTTP status when the upgrade is refused.
pub async fn try_connect_with_headers(url: &str, headers: &[(&str, &str)]) -> Result<Client, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(Client { ws }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("websocket connect failed: {e}"),
    }
}

/// The session code in a `session_created` / `session_joined` message.
pub fn code_of(msg: &Value) -> String {
    msg["session"]["code"].as_str().unwrap().to_string()
}

/// True when `s` is UUID v4 text (8-4-4-4-12 lower-case hex, version 4, RFC 4122 variant).
pub fn is_uuid_v4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    lens == [8, 4, 4, 4, 12]
        && s.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
        && parts[2].starts_with('4')
        && matches!(parts[3].chars().next(), Some('8' | '9' | 'a' | 'b'))
}

impl Client {
    /// The next JSON frame within `wait` (pings and pongs skipped); panics on close or timeout.
    pub async fn recv_within(&mut self, wait: Duration) -> Value {
        loop {
            let next = tokio::time::timeout(wait, self.ws.next())
                .await
                .expect("a message in time");
            match next {
                Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
                Some(Ok(Message::Ping(_))) | Some(Ok(Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next text frame exactly as sent, and parsed (pings and pongs skipped).
    pub async fn recv_text(&mut self) -> (String, Value) {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a message in time");
            match next {
                Some(Ok(Message::Text(text))) => {
                    let value = serde_json::from_str(&text).unwrap();
                    return (text.to_string(), value);
                }
                Some(Ok(Message::Ping(_))) | Some(Ok(Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next frame, which must be an `error` with machine-readable `code`.
    pub async fn expect_error(&mut self, code: &str) -> Value {
        let msg = self.recv().await;
        assert_eq!(msg["type"], "error", "expected error {code}, got {msg}");
        assert_eq!(msg["code"], code, "unexpected error: {msg}");
        msg
    }

    /// Proves nothing is queued for a connection that may be in no session: `leave` is always
    /// answered by `left {}`, which must be the very next frame. (Leaves any session it is in.)
    pub async fn assert_nothing_pending_via_leave(&mut self) {
        self.send(json!({"type": "leave"})).await;
        let msg = self.recv().await;
        assert_eq!(msg["type"], "left", "unexpected pending message: {msg}");
    }

    /// Waits for the socket to end: `Some((code, reason))` for a close frame, `None` when the
    /// stream ended or errored without one. Text frames before it are skipped.
    pub async fn expect_closed(&mut self) -> Option<(u16, String)> {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("the socket to end in time");
            match next {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Some((u16::from(frame.code), frame.reason.to_string()))
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }
}

/// The value of one sample line (`name{labels} value`) of a `/metrics` text, 0 when absent.
pub fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
        .unwrap_or(0.0)
}

/// Scrapes `/metrics` until `series` reaches `want` (sockets close asynchronously) or time runs
/// out; returns the last text.
pub async fn wait_for_metric(server: &TestServer, series: &str, want: f64) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let text = server.metrics().await;
        if sample(&text, series) == want || std::time::Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// [`wait_for_metric`], answering the series' last value.
pub async fn metric_reaches(server: &TestServer, series: &str, want: f64) -> f64 {
    sample(&wait_for_metric(server, series, want).await, series)
}
