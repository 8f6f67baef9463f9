//! Helpers for the contract suites (membership, room, playback, signaling): relays with the
//! production grace period and no heartbeat during a test, the host/guest/listener trio, and
//! shape checks.
//!
//! Every contract test runs its own relay with the production resume grace period (30 s) and
//! clients that declare no capabilities, as the Familiar app and older guest pages do, so every
//! row is proven as those clients meet it; and a heartbeat far in the future, so no heartbeat can
//! slip between the frames a test expects. Absence of a message is proven with a sentinel
//! request whose answer must be the very next frame.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::*;

pub const NOT_FOUND: &str = "Session not found";
pub const NOT_HOST: &str = "Only the host can control playback";
pub const CANNOT_KICK: &str = "Cannot kick that participant";

/// A relay with the contract's immediate-disconnect semantics and no heartbeat during a test.
pub fn relay() -> TestServer {
    relay_with(|_| {})
}

pub fn relay_with(configure: impl FnOnce(&mut familiar_sessions::config::Config)) -> TestServer {
    TestServer::start_with(|c| {
        c.heartbeat_interval_ms = 3_600_000;
        configure(c);
    })
}

/// The set of keys of a JSON object.
pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Joins `code` with a message of `kind` (`join` or `join_guest`) carrying `extra` fields.
pub async fn join_with(
    server: &TestServer,
    kind: &str,
    code: &str,
    extra: Value,
) -> (Client, Value) {
    let mut c = server.client().await;
    let mut msg = json!({"type": kind, "code": code});
    for (k, v) in extra.as_object().unwrap() {
        msg[k] = v.clone();
    }
    c.send(msg).await;
    let joined = c.expect("session_joined").await;
    (c, joined)
}

/// A host (username "Dee"), a guest "Ana" and a listener "Lou", with every join notification
/// already consumed. Returns (host, guest, listener, code, host id, guest id, listener id).
pub struct Trio {
    pub host: Client,
    pub guest: Client,
    pub listener: Client,
    pub code: String,
    pub host_id: String,
    pub guest_id: String,
    pub listener_id: String,
}

impl Trio {
    /// Proves nothing else is queued for any of the three members.
    pub async fn assert_all_quiet(&mut self) {
        for c in [&mut self.host, &mut self.guest, &mut self.listener] {
            c.assert_nothing_pending().await;
        }
    }
}

pub async fn trio(server: &TestServer) -> Trio {
    let (mut host_ws, created) = host(server).await;
    let code = code_of(&created);
    let host_id = created["your_user_id"].as_str().unwrap().to_string();
    let (guest_ws, joined) = guest(server, &code, "Ana").await;
    let guest_id = joined["your_user_id"].as_str().unwrap().to_string();
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    let (listener_ws, joined) = join_with(server, "join", &code, json!({"username": "Lou"})).await;
    let listener_id = joined["your_user_id"].as_str().unwrap().to_string();
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    let mut guest_ws = guest_ws;
    guest_ws.expect("user_joined").await;
    Trio {
        host: host_ws,
        guest: guest_ws,
        listener: listener_ws,
        code,
        host_id,
        guest_id,
        listener_id,
    }
}

/// Like `assert_nothing_pending`, but tolerates the relay's `token_refreshed` (an addition the
/// host gets after a kick) before the sentinel's answer.
pub async fn assert_nothing_pending_but_token(c: &mut Client) {
    c.send(json!({"type": "sync_request"})).await;
    loop {
        let msg = c.recv().await;
        match msg["type"].as_str() {
            Some("sync_response") => return,
            Some("token_refreshed") => continue,
            _ => panic!("unexpected pending message: {msg}"),
        }
    }
}

pub fn assert_participant_shape(p: &Value) {
    for key in [
        "user_id",
        "username",
        "role",
        "familiar",
        "joined_at",
        "webrtc_connected",
    ] {
        assert!(p.get(key).is_some(), "participant lacks {key}: {p}");
    }
    assert!(is_uuid_v4(p["user_id"].as_str().unwrap()), "{p}");
    let joined_at = p["joined_at"].as_str().unwrap();
    assert!(
        joined_at.contains('T') && (joined_at.ends_with('Z') || joined_at.ends_with("+00:00")),
        "joined_at must be RFC 3339 UTC: {joined_at}"
    );
    assert!(p["webrtc_connected"].is_boolean(), "{p}");
    assert_eq!(
        keys(&p["familiar"]),
        set(&["variant", "color", "accent", "seed"]),
        "{p}"
    );
}

/// A well-formed user id that names no one.
pub fn uuid_like() -> String {
    "8f6e2c1a-3b4d-4e5f-9a0b-1c2d3e4f5a6b".to_string()
}

/// The participant `user_id` in a `session_joined` / `session_created` message.
pub fn participant(welcome: &Value, user_id: &str) -> Value {
    welcome["session"]["participants"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["user_id"] == user_id))
        .cloned()
        .unwrap_or_else(|| panic!("no participant {user_id} in {welcome}"))
}
