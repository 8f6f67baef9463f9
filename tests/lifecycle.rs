//! How sessions and connections end, and the timers: host leave and host disconnect end the
//! session (`user_left` with `host_left`, then `session_ended`) and free the code; a guest's
//! disconnect is `user_left` with `disconnected`; a departure is heard once even when `leave`
//! and the socket close arrive together; a silent peer is dropped by the liveness check while a
//! quiet one that answers pings stays; the playback heartbeat goes out once per change; and a
//! graceful shutdown tells every participant `server_restarting` before closing with 1012.
//!
//! Every relay here keeps the production resume grace period (30 s) and its clients declare no
//! capabilities, as the Familiar app and older guest pages do: a drop is a departure at once for
//! them (the grace period for clients that declare `resume` is tested in resume.rs). Waiting is
//! on messages; the only sleeps are the quiet periods that prove something does *not* happen.

mod common;

use std::time::Duration;

use common::*;
use familiar_sessions::config::Config;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const NOT_FOUND: &str = "Session not found";

fn relay_with(configure: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start_with(|c| {
        c.heartbeat_interval_ms = 3_600_000;
        configure(c);
    })
}

fn relay() -> TestServer {
    relay_with(|_| {})
}

/// A host, a guest "Ana" and a listener "Lou" with all join notices consumed:
/// (host, guest, listener, code, host id, guest id).
async fn trio(server: &TestServer) -> (Client, Client, Client, String, String, String) {
    let (mut h, created) = host(server).await;
    let code = code_of(&created);
    let host_id = created["your_user_id"].as_str().unwrap().to_string();
    let (mut g, joined) = guest(server, &code, "Ana").await;
    let guest_id = joined["your_user_id"].as_str().unwrap().to_string();
    h.expect("guest_joined").await;
    h.expect("user_joined").await;
    let mut l = server.client().await;
    l.send(json!({"type": "join", "code": code, "username": "Lou"}))
        .await;
    l.expect("session_joined").await;
    h.expect("guest_joined").await;
    h.expect("user_joined").await;
    g.expect("user_joined").await;
    (h, g, l, code, host_id, guest_id)
}

/// The end of a session as a remaining member sees it: `user_left` for the host with reason
/// `host_left`, then `session_ended`.
async fn expect_session_end(c: &mut Client, host_id: &str, remaining: usize) {
    let left = c.expect("user_left").await;
    assert_eq!(left["user_id"], host_id, "{left}");
    assert_eq!(left["reason"], "host_left", "{left}");
    assert_eq!(left["participant_count"], remaining, "{left}");
    let ended = c.expect("session_ended").await;
    assert!(ended["reason"].is_string(), "{ended}");
}

/// The code is free: the lookup says 404 and a join says "Session not found".
async fn assert_code_free(server: &TestServer, code: &str) {
    let (status, body, _) = server
        .get(&format!("/api/v1/sessions/by-code/{code}"))
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"detail": "Session not found"})
    );
    let mut c = server.client().await;
    c.send(json!({"type": "join_guest", "code": code.to_lowercase(), "guest_name": "Late"}))
        .await;
    let err = c.expect("error").await;
    assert_eq!(err["message"], NOT_FOUND);
}

/// Reads `c` for `period`, failing on any text frame or close (pings are answered meanwhile).
async fn quiet_for(c: &mut Client, period: Duration) {
    let deadline = tokio::time::Instant::now() + period;
    loop {
        match tokio::time::timeout_at(deadline, c.ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Ping(_)))) | Ok(Some(Ok(Message::Pong(_)))) => continue,
            Ok(other) => panic!("expected silence, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Host leaves or disconnects
// ---------------------------------------------------------------------------------------------

/// Both remaining members hear `user_left` (host_left) and `session_ended` exactly once, are
/// no longer in a session, and the code is free.
async fn both_hear_the_end_once(
    server: &TestServer,
    members: [&mut Client; 2],
    host_id: &str,
    code: &str,
) {
    for member in members {
        expect_session_end(member, host_id, 2).await;
        member.assert_nothing_pending_via_leave().await;
    }
    assert_code_free(server, code).await;
}

#[tokio::test]
async fn host_leave_ends_the_session_for_everyone_and_frees_the_code() {
    let server = relay();
    let (mut h, mut g, mut l, code, host_id, _) = trio(&server).await;
    h.send(json!({"type": "leave"})).await;
    assert_eq!(h.expect("left").await, json!({"type": "left"}));
    expect_session_end(&mut g, &host_id, 2).await;
    expect_session_end(&mut l, &host_id, 2).await;
    // Heard once, and nobody is in a session any more.
    for c in [&mut h, &mut g, &mut l] {
        c.assert_nothing_pending_via_leave().await;
    }
    assert_code_free(&server, &code).await;
}

#[tokio::test]
async fn host_leave_and_close_at_once_is_heard_once() {
    let server = relay();
    let (mut h, mut g, mut l, code, host_id, _) = trio(&server).await;
    // What the host app does on unmount: leave, then close the socket at once.
    h.send(json!({"type": "leave"})).await;
    h.ws.close(None).await.unwrap();
    drop(h);
    both_hear_the_end_once(&server, [&mut g, &mut l], &host_id, &code).await;
}

#[tokio::test]
async fn host_socket_dropped_ends_the_session_immediately_without_grace() {
    let server = relay();
    let (h, mut g, mut l, code, host_id, _) = trio(&server).await;
    drop(h); // TCP gone, no close frame, no leave.
    both_hear_the_end_once(&server, [&mut g, &mut l], &host_id, &code).await;
}

#[tokio::test]
async fn host_close_frame_without_leave_ends_the_session() {
    let server = relay();
    let (mut h, mut g, _l, code, host_id, _) = trio(&server).await;
    h.ws.close(None).await.unwrap();
    expect_session_end(&mut g, &host_id, 2).await;
    g.assert_nothing_pending_via_leave().await;
    assert_code_free(&server, &code).await;
}

#[tokio::test]
async fn members_of_an_ended_session_may_create_or_join_again() {
    let server = relay();
    let (mut h, mut g, mut l, _code, host_id, _) = trio(&server).await;
    h.send(json!({"type": "leave"})).await;
    h.expect("left").await;
    expect_session_end(&mut g, &host_id, 2).await;
    expect_session_end(&mut l, &host_id, 2).await;

    // The former guest hosts now; the former listener joins it; the former host joins too.
    g.send(json!({"type": "create", "name": "Next", "username": "Ana"}))
        .await;
    let created = g.expect("session_created").await;
    let code = code_of(&created);
    l.send(json!({"type": "join", "code": code, "username": "Lou"}))
        .await;
    assert_eq!(
        l.expect("session_joined").await["session"]["participant_count"],
        2
    );
    h.send(json!({"type": "join_guest", "code": code, "guest_name": "Dee"}))
        .await;
    assert_eq!(
        h.expect("session_joined").await["session"]["participant_count"],
        3
    );
    g.expect("guest_joined").await;
    g.expect("user_joined").await;
    g.expect("guest_joined").await;
    g.expect("user_joined").await;
    l.expect("user_joined").await;
}

#[tokio::test]
async fn another_session_is_untouched_when_one_ends() {
    let server = relay();
    let (h1, mut g1, _l1, _code1, host1, _) = trio(&server).await;
    let (mut h2, mut g2, mut l2, code2, _, _) = trio(&server).await;
    drop(h1);
    expect_session_end(&mut g1, &host1, 2).await;
    for c in [&mut h2, &mut g2, &mut l2] {
        c.assert_nothing_pending().await;
    }
    let (status, _, _) = server
        .get(&format!("/api/v1/sessions/by-code/{code2}"))
        .await;
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------------------------------------
// Guests leave or disconnect
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn guest_socket_dropped_is_user_left_disconnected_heard_once() {
    let server = relay();
    let (mut h, g, mut l, code, _, guest_id) = trio(&server).await;
    drop(g);
    for c in [&mut h, &mut l] {
        let left = c.expect("user_left").await;
        assert_eq!(left["user_id"], guest_id.as_str());
        assert_eq!(left["participant_count"], 2);
        assert_eq!(left["reason"], "disconnected");
        c.assert_nothing_pending().await;
    }
    let (_, body, _) = server
        .get(&format!("/api/v1/sessions/by-code/{code}"))
        .await;
    assert!(body.contains("\"participant_count\":2"), "{body}");
}

#[tokio::test]
async fn guest_leave_and_close_at_once_is_heard_once() {
    let server = relay();
    let (mut h, mut g, mut l, _, _, guest_id) = trio(&server).await;
    g.send(json!({"type": "leave"})).await;
    g.ws.close(None).await.unwrap();
    for c in [&mut h, &mut l] {
        let left = c.expect("user_left").await;
        assert_eq!(left["user_id"], guest_id.as_str());
        assert_eq!(left["participant_count"], 2);
        assert_ne!(left["reason"], "host_left");
        c.assert_nothing_pending().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Liveness
// ---------------------------------------------------------------------------------------------

/// Short enough to run quickly, long enough that a busy machine does not make an ordinary test
/// client (one not read while it waits for something else) look silent.
fn fast_liveness(c: &mut Config) {
    c.ping_interval_ms = 400;
    c.idle_timeout_ms = 2_500;
}

#[tokio::test]
async fn a_silent_guest_is_dropped_and_the_others_hear_user_left() {
    let server = relay_with(fast_liveness);
    let (mut h, created) = host(&server).await;
    let code = code_of(&created);
    // tokio-tungstenite answers pings only while it is read: this guest is never read again.
    let (mut silent, joined) = guest(&server, &code, "Mute").await;
    let silent_id = joined["your_user_id"].clone();
    h.expect("guest_joined").await;
    h.expect("user_joined").await;
    let left = h.expect("user_left").await;
    assert_eq!(left["user_id"], silent_id);
    assert_eq!(left["reason"], "disconnected");
    assert_eq!(left["participant_count"], 1);
    h.assert_nothing_pending().await;
    // The silent socket was closed by the relay.
    silent.expect_closed().await;
}

#[tokio::test]
async fn a_silent_host_is_dropped_and_the_session_ends() {
    let server = relay_with(fast_liveness);
    let (_silent_host, created) = host(&server).await;
    let code = code_of(&created);
    let host_id = created["your_user_id"].as_str().unwrap().to_string();
    let (mut g, _) = guest(&server, &code, "Ana").await;
    expect_session_end(&mut g, &host_id, 1).await;
    assert_code_free(&server, &code).await;
}

#[tokio::test]
async fn a_quiet_peer_that_answers_pings_stays() {
    let server = relay_with(|c| {
        c.ping_interval_ms = 250;
        c.idle_timeout_ms = 1_200;
    });
    let (mut h, mut g, _) = host_and_guest(&server, "Ana").await;
    // Two and a half idle timeouts during which neither sends anything but pongs.
    let period = Duration::from_millis(3_000);
    tokio::join!(quiet_for(&mut h, period), quiet_for(&mut g, period));
    g.send(json!({"type": "chat", "message": "still here"}))
        .await;
    assert_eq!(h.expect("chat").await["message"], "still here");
    assert_eq!(g.expect("chat").await["message"], "still here");
}

// ---------------------------------------------------------------------------------------------
// Playback heartbeat
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_heartbeat_carries_state_and_track_meta_once_per_change() {
    let interval = 100;
    let server = relay_with(|c| c.heartbeat_interval_ms = interval);
    let (mut h, mut g, mut l, _, _, _) = trio(&server).await;
    let quiet = Duration::from_millis(interval * 6);

    // No playback yet: no heartbeat either.
    tokio::time::sleep(quiet).await;
    for c in [&mut h, &mut g, &mut l] {
        c.assert_nothing_pending().await;
    }

    let meta = json!({"title": "Song", "artist": "Band", "album": "LP", "bpm": 128});
    h.send(json!({"type": "playback", "track_id": "t1", "is_playing": true, "position_ms": 1000, "track_meta": meta}))
        .await;
    for c in [&mut g, &mut l] {
        let update = c.expect("playback_update").await;
        assert_ne!(update["heartbeat"], true, "{update}");
        let beat = c.expect("playback_update").await;
        assert_eq!(beat["heartbeat"], true, "{beat}");
        assert_eq!(beat["track_id"], "t1");
        assert_eq!(beat["is_playing"], true);
        assert_eq!(beat["position_ms"].as_f64(), Some(1000.0));
        assert_eq!(beat["track_meta"]["title"], "Song", "{beat}");
        assert_eq!(beat["track_meta"]["artist"], "Band");
        assert_eq!(beat["track_meta"]["album"], "LP");
        assert_eq!(beat["track_meta"]["bpm"].as_f64(), Some(128.0));
    }

    // Without a change, no further heartbeat — and the host never gets one.
    tokio::time::sleep(quiet).await;
    for c in [&mut h, &mut g, &mut l] {
        c.assert_nothing_pending().await;
    }

    // The next change brings exactly one more, with the stored track and the new meta.
    h.send(json!({"type": "playback", "is_playing": false, "track_meta": {"title": "Song", "bpm": 90}}))
        .await;
    for c in [&mut g, &mut l] {
        let update = c.expect("playback_update").await;
        assert_ne!(update["heartbeat"], true, "{update}");
        let beat = c.expect("playback_update").await;
        assert_eq!(beat["heartbeat"], true, "{beat}");
        assert_eq!(beat["track_id"], "t1");
        assert_eq!(beat["is_playing"], false);
        assert_eq!(beat["position_ms"].as_f64(), Some(1000.0));
        assert_eq!(beat["track_meta"], json!({"title": "Song", "bpm": 90.0}));
    }
    tokio::time::sleep(quiet).await;
    for c in [&mut h, &mut g, &mut l] {
        c.assert_nothing_pending().await;
    }
}

#[test]
fn liveness_and_heartbeat_defaults_match_the_contract() {
    let c = Config::from_env().unwrap();
    assert_eq!(c.heartbeat_interval_ms, 5_000, "heartbeat about every 5 s");
    assert_eq!(c.ping_interval_ms, 15_000, "pings every 15 s");
    assert_eq!(c.idle_timeout_ms, 45_000, "silent for 45 s is dropped");
    assert_eq!(c.max_sessions, 50);
    assert_eq!(c.max_participants, 32);
    assert_eq!(c.max_frame_bytes, 64 * 1024);
    assert!(c.allowed_origins.is_empty(), "any origin by default");
}

// ---------------------------------------------------------------------------------------------
// Shutdown
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn shutdown_tells_every_participant_server_restarting_then_closes_1012() {
    let mut server = relay_with(|c| c.restart_retry_after_ms = 1_234);
    let (mut h, mut g, mut l, _, _, _) = trio(&server).await;
    let (mut h2, _) = host(&server).await;
    server.begin_stop();
    // Hosts are asked back after the configured hint; everyone else after the hosts' window.
    for (c, host) in [
        (&mut h, true),
        (&mut g, false),
        (&mut l, false),
        (&mut h2, true),
    ] {
        let notice = c.recv().await;
        assert_eq!(notice["type"], "server_restarting", "{notice}");
        let after = notice["retry_after_ms"].as_u64().unwrap();
        if host {
            assert_eq!(after, 1_234);
        } else {
            assert!(after > 1_234, "{notice}");
        }
        let (code, _) = c.expect_close().await;
        assert_eq!(code, 1012);
    }
    // Dropping the server waits for the drain to finish; it must not hang.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(server);
        let _ = tx.send(());
    });
    tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the relay stops within its drain time");
}
