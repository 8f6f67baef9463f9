//! Everything that refuses: bad frames (malformed JSON, non-objects, missing `type`, unknown
//! types, binary frames, frames over 64 KiB), the session and participant caps, passwords, the
//! failed-join throttle per client IP (and `Fly-Client-IP` only when trusted), the per-session
//! wrong-password throttle, and the per-connection rate limits with their flood close.
//!
//! Each test runs its own relay with the limit under test shrunk. Passwords are argon2id, slow in
//! a debug build, so answers to password joins are awaited with `SLOW_WAIT`.

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const NOT_FOUND: &str = "Session not found";
const BAD_PASSWORD: &str = "Invalid session password";

fn relay_with(configure: impl FnOnce(&mut familiar_sessions::config::Config)) -> TestServer {
    TestServer::start_with(|c| {
        c.heartbeat_interval_ms = 3_600_000;
        configure(c);
    })
}

fn relay() -> TestServer {
    relay_with(|_| {})
}

/// Asserts `msg` is an `error` with `code` and a positive retry hint (within one minute for the
/// join throttle, whose window is a minute).
fn assert_retry_error(msg: &Value, code: &str) -> u64 {
    assert_eq!(msg["type"], "error", "{msg}");
    assert_eq!(msg["code"], code, "{msg}");
    assert!(
        msg["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{msg}"
    );
    let retry = msg["retry_after_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("retry_after_ms missing: {msg}"));
    assert!(retry > 0, "retry_after_ms {retry}");
    if code == "join_throttled" {
        assert!(retry <= 60_000, "retry_after_ms {retry}");
    }
    retry
}

// ---------------------------------------------------------------------------------------------
// Bad frames
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_frames_get_a_coded_error_and_the_connection_stays_usable() {
    let server = relay();
    let mut c = server.client().await;
    let cases = [
        ("{", "bad_json"),
        ("not json", "bad_json"),
        ("", "bad_json"),
        ("{\"type\": \"chat\",}", "bad_json"),
        ("[1, 2]", "not_object"),
        ("\"create\"", "not_object"),
        ("42", "not_object"),
        ("null", "not_object"),
        ("{}", "missing_type"),
        ("{\"name\": \"x\"}", "missing_type"),
        ("{\"type\": 5}", "missing_type"),
        ("{\"type\": null}", "missing_type"),
    ];
    for (text, code) in cases {
        c.send_raw(Message::text(text)).await;
        let err = c.recv().await;
        assert_eq!(err["type"], "error", "frame {text:?}: {err}");
        assert_eq!(err["code"], code, "frame {text:?}: {err}");
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{err}"
        );
    }
    // Still usable, and still usable inside a session.
    c.send(json!({"type": "create"})).await;
    c.expect("session_created").await;
    c.send_raw(Message::text("{oops")).await;
    c.expect_error("bad_json").await;
    c.send(json!({"type": "chat", "message": "after"})).await;
    assert_eq!(c.expect("chat").await["message"], "after");
    c.assert_nothing_pending().await;
}

#[tokio::test]
async fn unknown_types_are_ignored_and_unknown_fields_too() {
    let server = relay();
    let (mut h, created) = host(&server).await;
    let code = code_of(&created);
    for msg in [
        json!({"type": "dance"}),
        json!({"type": "CREATE"}),
        json!({"type": ""}),
        json!({"type": "x".repeat(500)}),
    ] {
        h.send(msg).await;
    }
    h.assert_nothing_pending().await;
    // Unknown fields beside known ones do not matter.
    let mut g = server.client().await;
    g.send(json!({"type": "join_guest", "code": code, "guest_name": "A", "future": {"x": 1}}))
        .await;
    g.expect("session_joined").await;
    g.send(json!({"type": "chat", "message": "m", "client_ts": 1}))
        .await;
    g.expect("chat").await;
}

#[tokio::test]
async fn a_known_type_with_badly_shaped_fields_is_an_error() {
    let server = relay();
    let (mut h, _) = host(&server).await;
    h.send(json!({"type": "chat", "message": 5})).await;
    h.expect_error("invalid_message").await;
    h.assert_nothing_pending().await;
}

#[tokio::test]
async fn binary_frames_are_refused_with_an_error_and_the_connection_stays_usable() {
    let server = relay();
    let mut c = server.client().await;
    c.send_raw(Message::binary(br#"{"type":"create"}"#.to_vec()))
        .await;
    let err = c.expect_error("binary_not_supported").await;
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    c.send(json!({"type": "create"})).await;
    c.expect("session_created").await;
    c.send_raw(Message::binary(vec![0u8; 10])).await;
    c.expect_error("binary_not_supported").await;
    c.assert_nothing_pending().await;
}

/// A text frame of exactly `len` bytes whose `type` nobody knows (so it is ignored if accepted).
fn padded_frame(len: usize) -> String {
    let head = r#"{"type":"padding","pad":""#;
    let tail = r#""}"#;
    let frame = format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()));
    assert_eq!(frame.len(), len);
    frame
}

#[tokio::test]
async fn a_frame_of_64_kib_is_accepted_and_one_byte_more_closes_with_1009() {
    let server = relay();
    let (mut h, mut g, _) = host_and_guest(&server, "Big").await;

    g.send_raw(Message::text(padded_frame(64 * 1024))).await;
    g.assert_nothing_pending().await;

    g.send_raw(Message::text(padded_frame(64 * 1024 + 1))).await;
    let (code, _) = g.expect_close().await;
    assert_eq!(code, 1009);

    // The others see an ordinary disconnect.
    let left = h.expect("user_left").await;
    assert_eq!(left["reason"], "disconnected");
    assert_eq!(left["participant_count"], 1);
    h.assert_nothing_pending().await;
}

// ---------------------------------------------------------------------------------------------
// Caps
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_session_cap_refuses_create_with_the_contract_text() {
    if per_machine("the session cap") {
        return;
    }
    let server = relay_with(|c| c.max_sessions = 2);
    let (mut a, _) = host(&server).await;
    let (_b, _) = host(&server).await;
    let mut c = server.client().await;
    c.send(json!({"type": "create", "name": "third"})).await;
    let err = c.expect("error").await;
    assert_eq!(err["message"], "Server is at the 2-session limit");
    assert_eq!(err["code"], "server_full");
    // Joining an existing session is not affected by the session cap.
    c.send(json!({"type": "leave"})).await;
    c.expect("left").await;

    // A session that ends frees its slot.
    a.send(json!({"type": "leave"})).await;
    a.expect("left").await;
    let mut d = server.client().await;
    d.send(json!({"type": "create"})).await;
    d.expect("session_created").await;
    c.send(json!({"type": "create"})).await;
    let err = c.expect("error").await;
    assert_eq!(err["message"], "Server is at the 2-session limit");
}

#[tokio::test]
async fn the_session_cap_message_names_the_configured_cap() {
    if per_machine("the session cap") {
        return;
    }
    let server = relay_with(|c| c.max_sessions = 1);
    let (_a, _) = host(&server).await;
    let mut c = server.client().await;
    c.send(json!({"type": "create"})).await;
    assert_eq!(
        c.expect("error").await["message"],
        "Server is at the 1-session limit"
    );
}

#[tokio::test]
async fn the_participant_cap_refuses_join_with_session_full() {
    let server = relay_with(|c| c.max_participants = 3);
    let (mut h, created) = host(&server).await;
    let code = code_of(&created);
    let (mut g1, _) = guest(&server, &code, "One").await;
    let (_g2, _) = guest(&server, &code, "Two").await;
    for kind in ["join_guest", "join"] {
        let mut g3 = server.client().await;
        g3.send(json!({"type": kind, "code": code, "guest_name": "Three"}))
            .await;
        let err = g3.expect_error("session_full").await;
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    for _ in 0..2 {
        h.expect("guest_joined").await;
        h.expect("user_joined").await;
    }
    g1.expect("user_joined").await;
    h.assert_nothing_pending().await;
    g1.assert_nothing_pending().await;

    // A departure makes room.
    g1.send(json!({"type": "leave"})).await;
    g1.expect("left").await;
    h.expect("user_left").await;
    let (_g3, joined) = guest(&server, &code, "Three").await;
    assert_eq!(joined["session"]["participant_count"], 3);
}

// ---------------------------------------------------------------------------------------------
// Passwords
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_password_protected_session_admits_only_the_right_password() {
    let server = relay();
    let mut h = server.client().await;
    h.send(json!({"type": "create", "name": "Private", "password": "s3cret-pw"}))
        .await;
    let created = h.recv_within(SLOW_WAIT).await;
    assert_eq!(created["type"], "session_created", "{created}");
    assert_eq!(created["session"]["has_password"], true);
    let text = created.to_string();
    assert!(
        !text.contains("s3cret-pw") && !text.contains("argon2"),
        "nothing derived from the password is sent: {text}"
    );
    let code = code_of(&created);
    let (_, body, _) = server
        .get(&format!("/api/v1/sessions/by-code/{code}"))
        .await;
    let public: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(public["has_password"], true);
    assert!(!body.contains("s3cret-pw") && !body.contains("argon2"));

    let mut g = server.client().await;
    // Each check is an argon2 verification (slow in debug builds): three cases are enough.
    let wrong = [
        json!({"type": "join_guest", "code": code, "guest_name": "G"}),
        json!({"type": "join_guest", "code": code, "guest_name": "G", "password": ""}),
        json!({"type": "join", "code": code, "username": "L", "password": "S3CRET-PW"}),
    ];
    for msg in wrong {
        g.send(msg.clone()).await;
        let err = g.recv_within(SLOW_WAIT).await;
        assert_eq!(err["type"], "error", "{msg}: {err}");
        assert_eq!(err["message"], BAD_PASSWORD, "{msg}: {err}");
        assert_eq!(err["code"], "invalid_password");
    }
    h.assert_nothing_pending().await;

    g.send(json!({"type": "join_guest", "code": code.to_lowercase(), "guest_name": "G", "password": "s3cret-pw"}))
        .await;
    let joined = g.recv_within(SLOW_WAIT).await;
    assert_eq!(joined["type"], "session_joined", "{joined}");
    assert_eq!(joined["session"]["has_password"], true);
    assert!(!joined.to_string().contains("s3cret-pw"));
    h.expect("guest_joined").await;
    h.expect("user_joined").await;
}

#[tokio::test]
async fn wrong_passwords_are_throttled_per_session() {
    let server = relay_with(|c| {
        c.wrong_passwords_per_minute = 2;
        c.join_failures_per_minute = 1000;
    });
    let mut h = server.client().await;
    h.send(json!({"type": "create", "password": "pw"})).await;
    let created = h.recv_within(SLOW_WAIT).await;
    let code = code_of(&created);
    let mut g = server.client().await;
    for _ in 0..2 {
        g.send(json!({"type": "join_guest", "code": code, "password": "bad"}))
            .await;
        assert_eq!(g.recv_within(SLOW_WAIT).await["message"], BAD_PASSWORD);
    }
    // Even the right password waits now; another connection too.
    let mut g2 = server.client().await;
    for c in [&mut g, &mut g2] {
        c.send(json!({"type": "join_guest", "code": code, "password": "pw"}))
            .await;
        let err = c.recv_within(SLOW_WAIT).await;
        assert_retry_error(&err, "join_throttled");
    }
    h.assert_nothing_pending().await;
}

// ---------------------------------------------------------------------------------------------
// Failed-join throttling per client IP
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn failed_joins_are_throttled_per_client_ip() {
    if per_machine("the failed-join throttle") {
        return;
    }
    let server = relay_with(|c| c.join_failures_per_minute = 2);
    let (mut h, created) = host(&server).await;
    let code = code_of(&created);
    let mut c = server.client().await;
    for guess in ["AAAAAAAAAA", "BBBBBBBBBB"] {
        c.send(json!({"type": "join_guest", "code": guess})).await;
        assert_eq!(c.expect("error").await["message"], NOT_FOUND);
    }
    // Now even a right code is refused for a while, on any connection from this IP.
    c.send(json!({"type": "join_guest", "code": code})).await;
    assert_retry_error(&c.expect("error").await, "join_throttled");
    let mut other = server.client().await;
    other.send(json!({"type": "join", "code": code})).await;
    assert_retry_error(&other.expect("error").await, "join_throttled");
    h.assert_nothing_pending().await;
    // Creating is not a join: still allowed.
    other.send(json!({"type": "create"})).await;
    other.expect("session_created").await;
}

#[tokio::test]
async fn wrong_passwords_count_as_failed_joins_for_the_ip() {
    if per_machine("the failed-join throttle") {
        return;
    }
    let server = relay_with(|c| {
        c.join_failures_per_minute = 1;
        c.wrong_passwords_per_minute = 100;
    });
    let mut h = server.client().await;
    h.send(json!({"type": "create", "password": "pw"})).await;
    let code = code_of(&h.recv_within(SLOW_WAIT).await);
    let (_open_host, open) = host(&server).await;
    let open_code = code_of(&open);
    let mut g = server.client().await;
    g.send(json!({"type": "join_guest", "code": code, "password": "bad"}))
        .await;
    assert_eq!(g.recv_within(SLOW_WAIT).await["message"], BAD_PASSWORD);
    g.send(json!({"type": "join_guest", "code": open_code}))
        .await;
    assert_retry_error(&g.recv_within(SLOW_WAIT).await, "join_throttled");
}

#[tokio::test]
async fn fly_client_ip_counts_only_when_trusted() {
    if per_machine("the failed-join throttle") {
        return;
    }
    // Trusted: each Fly-Client-IP has its own budget.
    let server = relay_with(|c| {
        c.join_failures_per_minute = 1;
        c.trust_fly_client_ip = true;
    });
    let url = server.ws_url();
    let mut a = try_connect_with_headers(&url, &[("Fly-Client-IP", "203.0.113.1")])
        .await
        .unwrap();
    a.send(json!({"type": "join_guest", "code": "AAAAAAAAAA"}))
        .await;
    assert_eq!(a.expect("error").await["message"], NOT_FOUND);
    a.send(json!({"type": "join_guest", "code": "AAAAAAAAAA"}))
        .await;
    assert_retry_error(&a.expect("error").await, "join_throttled");
    let mut b = try_connect_with_headers(&url, &[("Fly-Client-IP", "203.0.113.2")])
        .await
        .unwrap();
    b.send(json!({"type": "join_guest", "code": "AAAAAAAAAA"}))
        .await;
    assert_eq!(b.expect("error").await["message"], NOT_FOUND);

    // Not trusted (the default): the header is ignored, everyone here is 127.0.0.1.
    let server = relay_with(|c| c.join_failures_per_minute = 1);
    let url = server.ws_url();
    let mut a = try_connect_with_headers(&url, &[("Fly-Client-IP", "203.0.113.1")])
        .await
        .unwrap();
    a.send(json!({"type": "join_guest", "code": "AAAAAAAAAA"}))
        .await;
    assert_eq!(a.expect("error").await["message"], NOT_FOUND);
    let mut b = try_connect_with_headers(&url, &[("Fly-Client-IP", "203.0.113.2")])
        .await
        .unwrap();
    b.send(json!({"type": "join_guest", "code": "AAAAAAAAAA"}))
        .await;
    assert_retry_error(&b.expect("error").await, "join_throttled");
}

// ---------------------------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn chat_over_its_burst_is_answered_rate_limited_with_a_retry_hint() {
    let server = relay_with(|c| {
        c.rate_chat_burst = 3.0;
        c.rate_chat_per_sec = 0.5;
    });
    let (mut h, mut g, _) = host_and_guest(&server, "Chatty").await;

    for i in 0..4 {
        g.send(json!({"type": "chat", "message": format!("m{i}")}))
            .await;
    }
    for i in 0..3 {
        assert_eq!(h.expect("chat").await["message"], format!("m{i}"));
    }
    // The refusal comes from the connection, the echoes from the session: they may interleave.
    let mut echoes = Vec::new();
    let mut refusals = Vec::new();
    for _ in 0..4 {
        let msg = g.recv().await;
        match msg["type"].as_str() {
            Some("chat") => echoes.push(msg["message"].as_str().unwrap().to_string()),
            _ => refusals.push(msg),
        }
    }
    assert_eq!(echoes, ["m0", "m1", "m2"]);
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    let retry = assert_retry_error(&refusals[0], "rate_limited");
    assert!(retry >= 1000, "one token takes ~2 s at 0.5/s: {retry}");
    // Reactions share the chat budget; other kinds of message do not.
    g.send(json!({"type": "reaction", "kind": "wave"})).await;
    assert_retry_error(&g.recv().await, "rate_limited");
    g.assert_nothing_pending().await;
    h.assert_nothing_pending().await;
}

#[tokio::test]
async fn a_sustained_flood_is_closed_with_1008() {
    let server = relay_with(|c| {
        c.rate_chat_burst = 1.0;
        c.rate_chat_per_sec = 0.01;
        c.rate_flood_strikes = 5;
    });
    let (mut h, mut g, _) = host_and_guest(&server, "Flood").await;

    for _ in 0..12 {
        g.send(json!({"type": "chat", "message": "spam"})).await;
    }
    let mut refusals = 0;
    let mut echoes = 0;
    for _ in 0..6 {
        let msg = g.recv().await;
        if msg["type"] == "chat" {
            echoes += 1;
        } else {
            assert_retry_error(&msg, "rate_limited");
            refusals += 1;
        }
    }
    assert_eq!((echoes, refusals), (1, 5));
    let (code, _) = g.expect_close().await;
    assert_eq!(code, 1008);
    assert_eq!(h.expect("chat").await["message"], "spam");
    let left = h.expect("user_left").await;
    assert_eq!(left["reason"], "disconnected");
    h.assert_nothing_pending().await;
}

#[tokio::test]
async fn ice_bursts_pass_the_default_limits_in_order() {
    let server = relay();
    let (mut h, mut g, _) = host_and_guest(&server, "Ice").await;
    for i in 0..150 {
        g.send(json!({"type": "webrtc_ice", "candidate": {"i": i}}))
            .await;
    }
    for i in 0..150 {
        let ice = h.expect("webrtc_ice").await;
        assert_eq!(ice["candidate"]["i"], i);
    }
    g.assert_nothing_pending().await;
    h.assert_nothing_pending().await;
}

// ---------------------------------------------------------------------------------------------
// Slow readers and slow work
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_not_buffered_forever() {
    let server = relay_with(|c| {
        c.outbound_max_bytes = 64 * 1024;
        c.rate_signal_burst = 10_000.0;
        c.rate_signal_per_sec = 10_000.0;
    });
    let (mut h, created) = host(&server).await;
    let code = code_of(&created);
    // This guest is never read again.
    let (_stuck, joined) = guest(&server, &code, "Stuck").await;
    let stuck_id = joined["your_user_id"].as_str().unwrap().to_string();
    h.expect("guest_joined").await;
    h.expect("user_joined").await;
    // ~60 KB per frame: enough frames to fill any socket buffer many times over.
    let candidate = "c".repeat(60_000);
    let frame = json!({"type": "webrtc_ice", "target_user_id": stuck_id, "candidate": candidate})
        .to_string();
    let mut left = None;
    for _ in 0..2_000 {
        h.send_raw(Message::text(frame.clone())).await;
        // Stop as soon as the relay gave up on the stuck guest.
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::ZERO, h.ws.next()).await
        {
            left = Some(serde_json::from_str::<Value>(&text).unwrap());
            break;
        }
    }
    let left = match left {
        Some(msg) => msg,
        None => h.recv().await,
    };
    assert_eq!(left["type"], "user_left", "{left}");
    assert_eq!(left["user_id"], stuck_id.as_str());
    assert_eq!(left["reason"], "disconnected");
}

#[tokio::test]
async fn a_password_check_does_not_stall_other_sessions() {
    // One session thread: if argon2 ran on it, every other session would wait for it.
    let server = relay_with(|c| {
        c.session_threads = 1;
        c.join_failures_per_minute = 1000;
    });
    let mut locked_host = server.client().await;
    locked_host
        .send(json!({"type": "create", "password": "pw"}))
        .await;
    let locked = code_of(&locked_host.recv_within(SLOW_WAIT).await);
    let (mut h, created) = host(&server).await;
    let (mut g, _) = guest(&server, &code_of(&created), "Ana").await;
    h.expect("guest_joined").await;
    h.expect("user_joined").await;

    let mut knocking = server.client().await;
    knocking
        .send(json!({"type": "join_guest", "code": locked, "password": "wrong"}))
        .await;
    // While the check runs, the other session keeps relaying; the check's answer comes last.
    for i in 0..5 {
        g.send(json!({"type": "chat", "message": format!("m{i}")}))
            .await;
        assert_eq!(h.expect("chat").await["message"], format!("m{i}"));
        assert_eq!(g.expect("chat").await["message"], format!("m{i}"));
    }
    let (status, _, _) = server.get("/health").await;
    assert_eq!(status, 200);
    // Had the check blocked the session thread, the chats would have waited for it and its
    // answer would be here already.
    let early = tokio::time::timeout(Duration::ZERO, knocking.ws.next()).await;
    assert!(
        early.is_err(),
        "the check finished before 5 chats: {early:?}"
    );
    let answer = knocking.recv_within(SLOW_WAIT).await;
    assert_eq!(answer["message"], BAD_PASSWORD);
}

/// Creates a session with `password` on a relay whose password limit is `max_bytes`, then joins
/// with the very same password. A create may refuse an over-long password outright (the host
/// then knows); what it must not do is accept one that no guest can ever enter.
async fn same_password_round_trip(max_bytes: usize, password: &str) {
    let server = relay_with(|c| {
        c.max_password_bytes = max_bytes;
        c.join_failures_per_minute = 1000;
    });
    let mut h = server.client().await;
    h.send(json!({"type": "create", "password": password}))
        .await;
    let created = h.recv_within(SLOW_WAIT).await;
    if password.len() > max_bytes {
        // Refused, never cut: a cut password would not be the one the host typed.
        assert_eq!(created["code"], "password_too_long", "{created}");
        return;
    }
    assert_eq!(created["type"], "session_created", "{created}");
    assert_eq!(created["session"]["has_password"], true);
    let mut g = server.client().await;
    g.send(json!({"type": "join_guest", "code": code_of(&created), "password": password}))
        .await;
    let joined = g.recv_within(SLOW_WAIT).await;
    assert_eq!(
        joined["type"],
        "session_joined",
        "the password the host set ({} bytes, limit {max_bytes}) must let a guest in: {joined}",
        password.len()
    );
}

#[tokio::test]
async fn a_non_ascii_password_over_the_byte_limit_is_refused_at_create() {
    // 5 characters, 10 bytes, limit 8 bytes.
    same_password_round_trip(8, "ééééé").await;
}

#[tokio::test]
async fn an_over_long_password_is_refused_at_create() {
    // 10 ASCII bytes, limit 8 bytes.
    same_password_round_trip(8, "abcdefghij").await;
}

#[tokio::test]
async fn a_password_within_the_limit_round_trips() {
    same_password_round_trip(8, "abcdefgh").await;
    same_password_round_trip(8, "éééé").await;
}
