//! Abusive clients, over real sockets: the handshake window (a socket in no session that asks
//! for none is closed with 4008, one that asks in time or waits behind `host_not_back` is not),
//! the per-address caps (the next upgrade refused with 429 and `Retry-After`, the next `create`
//! with `too_many_sessions`), and the slow reader judged by bytes waiting and by time, whose TCP
//! connection the kernel then drops too. Each limit is checked in `/metrics` too.
//!
//! Each test runs its own relay with the limit under test shrunk. The slow-reader tests stop
//! reading a tungstenite client (never polled again, so its TCP receive window closes as a tab
//! frozen in the background would) and send it big targeted `webrtc_ice` frames.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use familiar_sessions::config::Config;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// The handshake window in the tests that shrink it.
const WINDOW_MS: u64 = 300;

fn relay_with(configure: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start_with(|c| {
        c.heartbeat_interval_ms = 3_600_000;
        configure(c);
    })
}

const HANDSHAKE_CLOSED: &str = "familiar_sockets_closed_total{reason=\"handshake_timeout\"}";
const SLOW_READERS: &str = "familiar_sockets_closed_total{reason=\"slow_reader\"}";

// ---------------------------------------------------------------------------------------------
// The handshake window
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_handshake_window() {
    let server = relay_with(|c| c.handshake_timeout_ms = WINDOW_MS);
    let mut silent = server.client().await;
    assert_eq!(
        silent.expect_close().await,
        (4008, "handshake timeout".to_string())
    );
    assert_eq!(metric_reaches(&server, HANDSHAKE_CLOSED, 1.0).await, 1.0);
}

#[tokio::test]
async fn messages_that_ask_for_no_session_do_not_hold_the_window_open() {
    let server = relay_with(|c| c.handshake_timeout_ms = WINDOW_MS);
    let mut c = server.client().await;
    let started = Instant::now();
    // Chat, playback and leave from a socket in no session are ignored or answered, but none of
    // them asks to enter a session.
    let closed = loop {
        c.send(json!({"type": "chat", "message": "anyone?"})).await;
        c.send(json!({"type": "playback", "is_playing": true}))
            .await;
        c.send(json!({"type": "leave"})).await;
        match tokio::time::timeout(Duration::from_millis(50), c.ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => break u16::from(frame.code),
            Ok(Some(Ok(_))) | Err(_) => {}
            other => panic!("expected the window's close, got {other:?}"),
        }
        assert!(started.elapsed() < WAIT, "never closed");
    };
    assert_eq!(closed, 4008);
}

#[tokio::test]
async fn members_are_not_cut_and_a_socket_out_of_its_session_gets_a_new_window() {
    let server = relay_with(|c| c.handshake_timeout_ms = WINDOW_MS);
    let (mut h, created) = host(&server).await;
    let code = code_of(&created);
    let (mut leaver, _) = guest(&server, &code, "Leaver").await;
    let (mut stayer, _) = guest(&server, &code, "Stayer").await;
    // Members for several windows: still served.
    tokio::time::sleep(Duration::from_millis(4 * WINDOW_MS)).await;
    h.send(json!({"type": "chat", "message": "still here"}))
        .await;
    for c in [&mut h, &mut leaver, &mut stayer] {
        assert_eq!(c.recv_until("chat").await["message"], "still here");
    }

    // Out by `leave`: a new window, then the close.
    leaver.send(json!({"type": "leave"})).await;
    leaver.recv_until("left").await;
    assert_eq!(leaver.expect_close().await.0, 4008);

    // Out because the session ended: likewise, and for the host that ended it by leaving.
    h.send(json!({"type": "leave"})).await;
    h.recv_until("left").await;
    stayer.recv_until("session_ended").await;
    assert_eq!(stayer.expect_close().await.0, 4008);
    assert_eq!(h.expect_close().await.0, 4008);
    assert_eq!(metric_reaches(&server, HANDSHAKE_CLOSED, 3.0).await, 3.0);
}

#[tokio::test]
async fn a_refused_entry_restarts_the_window() {
    let server = relay_with(|c| c.handshake_timeout_ms = WINDOW_MS);
    let mut c = server.client().await;
    // Asking again before each window ends keeps the socket, for many windows in all.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(WINDOW_MS / 2)).await;
        c.send(json!({"type": "join_guest", "code": "NOPE42"}))
            .await;
        c.expect_error("session_not_found").await;
    }
    // Once it stops asking, the last refusal's window runs out.
    assert_eq!(c.expect_close().await.0, 4008);
}

#[tokio::test]
async fn a_guest_waiting_behind_host_not_back_keeps_its_socket() {
    let secret = |c: &mut Config| {
        c.heartbeat_interval_ms = 3_600_000;
        c.session_secret = Some("abuse test secret".into());
        c.handshake_timeout_ms = WINDOW_MS;
    };
    // The session lives on `before`; `after` (same secret) has never seen it, as a restarted
    // relay would not have.
    let before = TestServer::start_with(secret);
    let (mut h, created) = resumable_host(&before).await;
    let (_g, joined) = resumable_guest(&before, &code_of(&created), "Ana").await;
    h.expect("guest_joined").await;
    let host_token = created["resume_token"].as_str().unwrap().to_string();
    let guest_token = joined["resume_token"].as_str().unwrap().to_string();
    let after = TestServer::start_with(secret);

    let mut waiting = after.client().await;
    let resume = json!({"type": "resume", "token": guest_token});
    // Retrying at the hint for several windows in all: each refusal opens a new window,
    // lengthened by its hint, so the waiting guest is never cut.
    let waited = std::time::Instant::now();
    while waited.elapsed() < Duration::from_millis(3 * WINDOW_MS) {
        waiting.send(resume.clone()).await;
        let refusal = waiting.expect_error("host_not_back").await;
        let hint = refusal["retry_after_ms"].as_u64().unwrap();
        tokio::time::sleep(Duration::from_millis(hint)).await;
    }
    let mut back = after.client().await;
    back.send(json!({"type": "resume", "token": host_token}))
        .await;
    back.expect("session_resumed").await;
    waiting.send(resume).await;
    waiting.recv_until("session_resumed").await;
    assert_eq!(sample(&after.metrics().await, HANDSHAKE_CLOSED), 0.0);
}

// ---------------------------------------------------------------------------------------------
// Per-address caps
// ---------------------------------------------------------------------------------------------

/// A WebSocket upgrade request over a raw socket: (status, headers lower-cased, body), so a
/// refusal's headers and body can be read.
async fn raw_upgrade(
    addr: SocketAddr,
    extra: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "GET /api/v1/sessions/ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    for (name, value) in extra {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + WAIT;
    loop {
        let n = tokio::time::timeout(WAIT, stream.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let mut lines = head.lines();
            let status = lines.next().unwrap().split_whitespace().nth(1).unwrap();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let length = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length || n == 0 || Instant::now() > deadline {
                return (status.parse().unwrap(), headers, body.to_string());
            }
        }
        assert!(n > 0, "connection closed before a full answer: {raw:?}");
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn an_address_over_its_socket_cap_is_refused_at_the_upgrade() {
    let server = relay_with(|c| {
        c.max_sockets_per_ip = 3;
        c.trust_fly_client_ip = true;
    });
    let url = server.ws_url();
    let from = |ip: &'static str| [("Fly-Client-IP", ip)];
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(
            try_connect_with_headers(&url, &from("203.0.113.1"))
                .await
                .unwrap(),
        );
    }
    let (status, headers, body) = raw_upgrade(server.addr, &from("203.0.113.1")).await;
    assert_eq!(status, 429, "{body}");
    let retry: u64 = header(&headers, "retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1, "Retry-After {retry}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "too_many_sockets", "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(body["retry_after_ms"], retry * 1000);
    assert_eq!(
        try_connect_with_headers(&url, &from("203.0.113.1"))
            .await
            .err(),
        Some(429)
    );

    // Other addresses are not touched; IPv6 counts by /64, so one prefix is one address.
    let mut other = try_connect_with_headers(&url, &from("203.0.113.2"))
        .await
        .unwrap();
    other.assert_nothing_pending_via_leave().await;
    for host in ["2001:db8:7:7::1", "2001:db8:7:7::2", "2001:db8:7:7:ffff::3"] {
        held.push(try_connect_with_headers(&url, &from(host)).await.unwrap());
    }
    assert_eq!(
        try_connect_with_headers(&url, &from("2001:db8:7:7:abcd::9"))
            .await
            .err(),
        Some(429)
    );

    // The sockets held still work, and a closed one gives its place back.
    held[0].assert_nothing_pending_via_leave().await;
    held.remove(0).ws.close(None).await.unwrap();
    let deadline = Instant::now() + WAIT;
    let mut again = loop {
        match try_connect_with_headers(&url, &from("203.0.113.1")).await {
            Ok(c) => break c,
            Err(429) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(status) => panic!("the freed place was not given back: {status}"),
        }
    };
    again.assert_nothing_pending_via_leave().await;
    let refused = sample(
        &server.metrics().await,
        "familiar_refused_total{reason=\"sockets_per_ip\"}",
    );
    assert!(refused >= 3.0, "refused {refused}");
}

#[tokio::test]
async fn an_address_over_its_session_share_is_refused_and_keeps_its_socket() {
    let server = relay_with(|c| {
        c.max_sessions_per_ip = 2;
        c.trust_fly_client_ip = true;
    });
    let url = server.ws_url();
    let create = json!({"type": "create", "name": "Mine"});
    let mut hosts = Vec::new();
    for _ in 0..2 {
        let mut h = try_connect_with_headers(&url, &[("Fly-Client-IP", "198.51.100.1")])
            .await
            .unwrap();
        h.send(create.clone()).await;
        let created = h.expect("session_created").await;
        hosts.push((h, code_of(&created)));
    }
    let mut third = try_connect_with_headers(&url, &[("Fly-Client-IP", "198.51.100.1")])
        .await
        .unwrap();
    third.send(create.clone()).await;
    let refusal = third.expect_error("too_many_sessions").await;
    assert!(refusal["message"].as_str().is_some_and(|m| !m.is_empty()));

    // The socket stays usable: it can join one of the sessions instead.
    let code = hosts[0].1.clone();
    third
        .send(json!({"type": "join_guest", "code": code, "guest_name": "Sib"}))
        .await;
    third.expect("session_joined").await;
    third.assert_nothing_pending_via_leave().await;

    // Another address is not touched.
    let mut elsewhere = try_connect_with_headers(&url, &[("Fly-Client-IP", "198.51.100.2")])
        .await
        .unwrap();
    elsewhere.send(create.clone()).await;
    elsewhere.expect("session_created").await;

    // A session that ends gives its place back.
    let (mut first, _) = hosts.remove(0);
    first.send(json!({"type": "leave"})).await;
    first.recv_until("left").await;
    let deadline = Instant::now() + WAIT;
    loop {
        third.send(create.clone()).await;
        let answer = third.recv().await;
        if answer["type"] == "session_created" {
            break;
        }
        assert_eq!(answer["code"], "too_many_sessions", "{answer}");
        assert!(
            Instant::now() < deadline,
            "the ended session's place was not given back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = server.metrics().await;
    assert!(sample(&text, "familiar_refused_total{reason=\"sessions_per_ip\"}") >= 1.0);
    assert!(
        sample(
            &text,
            "familiar_errors_sent_total{code=\"too_many_sessions\"}"
        ) >= 1.0
    );
}

// ---------------------------------------------------------------------------------------------
// Slow readers
// ---------------------------------------------------------------------------------------------

/// Frames this big make the old 256-frame rule hold 128 MiB for a reader before judging it, the
/// byte rule 1 MiB.
const BIG: usize = 512 * 1024;

/// Room for big frames, and no rate limit in the way of sending them.
fn big_frames(c: &mut Config) {
    c.heartbeat_interval_ms = 3_600_000;
    c.max_frame_bytes = 2 * BIG;
    c.rate_signal_burst = 100_000.0;
    c.rate_signal_per_sec = 100_000.0;
}

/// A client whose socket has a small receive buffer (64 KiB, not loopback's autotuned 32 MiB),
/// so a relay writing to it while it does not read soon has to keep frames waiting.
async fn small_window_client(server: &TestServer) -> Client {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(
        server.ws_url(),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    Client { ws }
}

/// A host, and a guest that has stopped reading: (host, the stuck guest, its user id).
async fn host_and_stuck_guest(server: &TestServer) -> (Client, Client, String) {
    let (mut h, created) = host(server).await;
    let mut stuck = small_window_client(server).await;
    stuck
        .send(json!({"type": "join_guest", "code": code_of(&created), "guest_name": "Stuck"}))
        .await;
    let joined = stuck.expect("session_joined").await;
    h.expect("guest_joined").await;
    h.expect("user_joined").await;
    let id = joined["your_user_id"].as_str().unwrap().to_string();
    (h, stuck, id)
}

/// Sends `frames` big ICE frames to `target`, stopping early when the relay reports it gone;
/// then waits for that report. Returns how many frames went out.
async fn flood_until_gone(h: &mut Client, target: &str, frames: usize) -> usize {
    let candidate = "c".repeat(BIG);
    let frame =
        json!({"type": "webrtc_ice", "target_user_id": target, "candidate": candidate}).to_string();
    let mut sent = 0;
    while sent < frames {
        h.send_raw(Message::text(frame.clone())).await;
        sent += 1;
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::ZERO, h.ws.next()).await
        {
            let msg: Value = serde_json::from_str(&text).unwrap();
            assert_user_left(&msg, target);
            return sent;
        }
    }
    let msg = h.recv().await;
    assert_user_left(&msg, target);
    sent
}

fn assert_user_left(msg: &Value, target: &str) {
    assert_eq!(msg["type"], "user_left", "{msg}");
    assert_eq!(msg["user_id"], target);
    assert_eq!(msg["reason"], "disconnected");
}

#[tokio::test]
async fn a_reader_that_stops_is_disconnected_by_the_bytes_waiting() {
    // Only bytes can judge here: the stall limit is far away.
    let server = relay_with(|c| {
        big_frames(c);
        c.outbound_max_bytes = 1024 * 1024;
        c.slow_reader_ms = 600_000;
    });
    let (mut h, mut stuck, stuck_id) = host_and_stuck_guest(&server).await;
    // 100 frames (50 MiB) is more than the socket buffers (64 KiB in, at most 4 MiB out) and
    // the relay's 32-frame channel hold, and far fewer than 256 waiting frames.
    let sent = flood_until_gone(&mut h, &stuck_id, 100).await;
    assert!(sent <= 100);
    assert_eq!(metric_reaches(&server, SLOW_READERS, 1.0).await, 1.0);
    // Reading again, the client finds the end of its socket after what was already on its way.
    let mut frames = 0;
    loop {
        match tokio::time::timeout(WAIT, stuck.ws.next()).await {
            Ok(Some(Ok(Message::Text(_)))) => frames += 1,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(Some(Ok(Message::Close(_))) | None | Some(Err(_))) => break,
            Ok(Some(Ok(other))) => panic!("unexpected {other:?}"),
            Err(_) => panic!("the slow reader's socket was never ended ({frames} frames read)"),
        }
    }
    assert!(
        frames < sent,
        "{frames} of {sent} frames reached a reader judged slow"
    );
    h.assert_nothing_pending().await;
}

#[tokio::test]
async fn a_reader_that_stops_is_disconnected_by_time_when_few_bytes_wait() {
    // Only time can judge here: the byte limit is far away and nothing more is sent.
    let server = relay_with(|c| {
        big_frames(c);
        c.outbound_max_bytes = 1 << 30;
        c.slow_reader_ms = 500;
    });
    let (mut h, _stuck, stuck_id) = host_and_stuck_guest(&server).await;
    // 100 frames: a backlog forms behind the buffers and the channel, fewer than 256 frames.
    let sent = flood_until_gone(&mut h, &stuck_id, 100).await;
    assert!(sent <= 100);
    assert_eq!(metric_reaches(&server, SLOW_READERS, 1.0).await, 1.0);
    h.assert_nothing_pending().await;
}

/// Whether the kernel still has the relay's end of the TCP connection from `client_port` to
/// `server_port` (loopback IPv4), from `/proc/net/tcp`.
fn relay_end_open(server_port: u16, client_port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let port_of = |field: &str| {
        field
            .rsplit_once(':')
            .and_then(|(_, port)| u16::from_str_radix(port, 16).ok())
    };
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.len() > 2
            && port_of(fields[1]) == Some(server_port)
            && port_of(fields[2]) == Some(client_port)
    })
}

#[tokio::test]
async fn a_reader_cut_for_not_reading_loses_its_tcp_connection_too() {
    // The relay's send buffer for the stuck reader stays full and its window shut; the kernel
    // must drop the connection after the idle timeout rather than probe the window for ever.
    let server = relay_with(|c| {
        big_frames(c);
        c.idle_timeout_ms = 2_000;
    });
    let (mut h, stuck, stuck_id) = host_and_stuck_guest(&server).await;
    let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = stuck.ws.get_ref() else {
        panic!("a plain TCP client");
    };
    let client_port = tcp.local_addr().unwrap().port();
    assert!(relay_end_open(server.addr.port(), client_port));
    flood_until_gone(&mut h, &stuck_id, 100).await;
    let deadline = Instant::now() + 3 * WAIT;
    while relay_end_open(server.addr.port(), client_port) {
        assert!(
            Instant::now() < deadline,
            "the relay still holds the TCP connection of a reader it cut"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
