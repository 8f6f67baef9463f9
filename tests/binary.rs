//! The real binary as an operator runs it: configured by environment, logging with env_logger,
//! stopped by SIGTERM. Checks the drain (clients told `server_restarting`, closed with 1012,
//! process gone in time), that a whole session's log output never carries a session code,
//! password, resume token or chat text, and that both ports listen with the configured backlog
//! (as `ss -ltn` shows it).

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_relay(port: u16, extra_env: &[(&str, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_familiar-sessions"))
        .env_clear()
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("METRICS_PORT", "0")
        .env("STUN_URLS", "")
        .env("STATIC_DIR", "/nonexistent")
        .env("SESSION_SECRET", "binary test secret")
        .env(
            "RUST_LOG",
            "info,familiar_sessions=debug,familiar_actors=debug",
        )
        .envs(extra_env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + WAIT;
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(addr).await.is_ok()
            && http_get(addr, "/health").await.0 == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("relay did not become healthy");
}

#[tokio::test]
async fn sigterm_drains_and_logs_hold_no_secrets() {
    let port = free_port();
    let mut relay = spawn_relay(port, &[]);
    wait_healthy(port).await;
    let url = format!("ws://127.0.0.1:{port}/api/v1/sessions/ws");

    let mut host = Client::connect(&url).await;
    host.send(json!({"type": "create", "name": "Secret Party", "password": "hunter42-pw"}))
        .await;
    let created = host.expect("session_created").await;
    let code = created["session"]["code"].as_str().unwrap().to_string();
    let host_token = created["resume_token"].as_str().unwrap().to_string();
    let mut guest = Client::connect(&url).await;
    guest
        .send(json!({"type": "join_guest", "code": code, "guest_name": "Ana", "password": "wrong-pw-77"}))
        .await;
    guest.expect("error").await;
    guest
        .send(json!({"type": "join_guest", "code": code, "guest_name": "Ana", "password": "hunter42-pw"}))
        .await;
    let joined = guest.expect("session_joined").await;
    let guest_token = joined["resume_token"].as_str().unwrap().to_string();
    guest
        .send(json!({"type": "chat", "message": "a very private chat line"}))
        .await;
    guest.recv_until("chat").await;
    guest
        .send(json!({"type": "webrtc_offer", "target_user_id": "x", "sdp": {"sdp": "v=0 private-sdp"}}))
        .await;
    guest.expect("error").await;
    let mut resumer = Client::connect(&url).await;
    resumer
        .send(json!({"type": "resume", "token": guest_token}))
        .await;
    resumer.expect("session_resumed").await;

    let stopped_at = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &relay.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for ws in [&mut host, &mut resumer] {
        ws.recv_until("server_restarting").await;
        assert_eq!(ws.expect_close().await.0, 1012);
    }
    drop((host, guest, resumer));
    let exit = loop {
        if let Some(exit) = relay.try_wait().unwrap() {
            break exit;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(8),
            "relay still running 8 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "relay exited with {exit}");

    let mut logs = String::new();
    relay
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.contains("session"),
        "expected session events in the log:\n{logs}"
    );
    assert!(
        logs.contains(&format!("{}…", &code[..3])),
        "short codes are logged:\n{logs}"
    );
    for secret in [
        code.as_str(),
        "hunter42-pw",
        "wrong-pw-77",
        host_token.as_str(),
        guest_token.as_str(),
        "a very private chat line",
        "private-sdp",
        "Secret Party",
    ] {
        assert!(!logs.contains(secret), "log leaks {secret:?}:\n{logs}");
    }
}

/// The accept backlog of the socket listening on `port`, as `ss -Hltn` prints it (Send-Q of a
/// listening socket).
fn listen_backlog(port: u16) -> u32 {
    let out = Command::new("ss")
        .args(["-Hltn", &format!("sport = :{port}")])
        .output()
        .expect("ss (iproute2) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .next()
        .unwrap_or_else(|| panic!("nothing listens on {port}"));
    line.split_whitespace()
        .nth(2)
        .and_then(|q| q.parse().ok())
        .unwrap_or_else(|| panic!("no Send-Q in {line:?}"))
}

#[tokio::test]
async fn both_ports_listen_with_the_configured_backlog() {
    let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096);
    for (configured, expected) in [
        (None, 4096.min(somaxconn)),
        (Some(1000), 1000.min(somaxconn)),
    ] {
        let (port, metrics_port) = (free_port(), free_port());
        let mut env = vec![("METRICS_PORT", metrics_port.to_string())];
        if let Some(backlog) = configured {
            env.push(("LISTEN_BACKLOG", backlog.to_string()));
        }
        let mut relay = spawn_relay(port, &env);
        wait_healthy(port).await;
        assert_eq!(
            listen_backlog(port),
            expected,
            "public port, LISTEN_BACKLOG={configured:?}"
        );
        assert_eq!(
            listen_backlog(metrics_port),
            expected,
            "metrics port, LISTEN_BACKLOG={configured:?}"
        );
        relay.kill().unwrap();
        relay.wait().unwrap();
    }
}
