//! Nothing lost, nothing twice, across reconnects and relay restarts: a chat or reaction re-sent
//! with its id is relayed once; after a restart the frames members hand back (`history`) reach
//! exactly the members that lacked them; forged or foreign frames are refused; and the drain
//! tells every socket, in whatever state, `server_restarting` and closes it with 1012.

mod common;

use common::*;
use serde_json::{json, Value};

const SECRET: &str = "a fixed secret for exactly-once tests";

fn resumable(config: &mut familiar_sessions::config::Config) {
    config.session_secret = Some(SECRET.into());
    config.resume_grace_ms = 30_000;
    config.restart_retry_after_ms = 100;
}

fn token(msg: &Value) -> String {
    msg["resume_token"].as_str().expect("a token").to_string()
}

fn seq(msg: &Value) -> u64 {
    msg["seq"].as_u64().expect("a seq")
}

async fn resume(server: &TestServer, token: &str, last_seq: Option<u64>) -> Client {
    let mut c = server.client().await;
    c.send(json!({"type": "resume", "token": token, "last_seq": last_seq}))
        .await;
    c
}

/// Stops `server` (its clients hear the restart) and starts a new relay on its port with the
/// same secret, as a crash and a supervisor's restart would.
fn restart(server: TestServer) -> TestServer {
    let addr = server.addr;
    server.stop();
    let mut config = test_config();
    resumable(&mut config);
    TestServer::start_at(config, addr)
}

/// A resumable host and two resumable guests, everyone's joins heard.
async fn room(server: &TestServer) -> [(Client, Value); 3] {
    let (mut host_ws, created) = resumable_host(server).await;
    let code = code_of(&created);
    let (mut ana_ws, ana) = resumable_guest(server, &code, "Ana").await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    let (bo_ws, bo) = resumable_guest(server, &code, "Bo").await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    ana_ws.expect("user_joined").await;
    [(host_ws, created), (ana_ws, ana), (bo_ws, bo)]
}

#[tokio::test]
async fn a_chat_resent_with_its_id_reaches_the_others_once_and_its_sender_again() {
    let server = TestServer::start_with(resumable);
    let [(mut host_ws, _), (mut ana_ws, _), (mut bo_ws, _)] = room(&server).await;
    let chat = json!({"type": "chat", "message": "once", "id": "ana-1"});
    ana_ws.send(chat.clone()).await;
    let (first_text, first) = ana_ws.recv_text().await;
    assert_eq!(first["id"], "ana-1");
    assert_eq!(first["mac"].as_str().map(str::len), Some(22), "{first}");
    assert_eq!(host_ws.expect("chat").await["id"], "ana-1");
    assert_eq!(bo_ws.expect("chat").await["id"], "ana-1");

    ana_ws.send(chat).await;
    let (again_text, _) = ana_ws.recv_text().await;
    assert_eq!(
        again_text, first_text,
        "the sender gets the same frame, same seq"
    );
    // The others heard nothing more: the next thing they get is what comes next.
    ana_ws
        .send(json!({"type": "reaction", "kind": "cheer", "id": "ana-2"}))
        .await;
    for ws in [&mut host_ws, &mut bo_ws] {
        let next = ws.recv().await;
        assert_eq!(next["type"], "user_reaction", "{next}");
        assert_eq!(next["id"], "ana-2");
    }
    ana_ws.expect("user_reaction").await;
    ana_ws
        .send(json!({"type": "reaction", "kind": "cheer", "id": "ana-2"}))
        .await;
    assert_eq!(ana_ws.expect("user_reaction").await["id"], "ana-2");
    host_ws.assert_nothing_pending().await;
    bo_ws.assert_nothing_pending().await;
    // Another member may use the same id: ids are the sender's own.
    bo_ws
        .send(json!({"type": "chat", "message": "mine", "id": "ana-1"}))
        .await;
    assert_eq!(host_ws.expect("chat").await["message"], "mine");
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(r#"familiar_repeats_dropped_total{type="resent"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn chats_without_an_id_are_relayed_every_time_and_bad_ids_are_refused() {
    let server = TestServer::start_with(resumable);
    let [(mut host_ws, _), (mut ana_ws, _), (_bo_ws, _)] = room(&server).await;
    for _ in 0..2 {
        ana_ws
            .send(json!({"type": "chat", "message": "again"}))
            .await;
        assert_eq!(host_ws.expect("chat").await["message"], "again");
    }
    let too_long = "x".repeat(65);
    for id in [json!(""), json!(7), json!("has space"), json!(too_long)] {
        ana_ws
            .send(json!({"type": "chat", "message": "bad id", "id": id}))
            .await;
        ana_ws.recv_until("error").await;
    }
    host_ws.assert_nothing_pending().await;
}

/// The crash case: one member (Bo) missed the last chats, the host missed the very last one;
/// after the restart the host hands back what it has, Ana what only she has, and Bo gets each
/// missing chat exactly once.
#[tokio::test]
async fn after_a_restart_members_hand_back_what_others_missed_exactly_once() {
    let server = TestServer::start_with(resumable);
    let [(mut host_ws, created), (mut ana_ws, ana), (mut bo_ws, bo)] = room(&server).await;
    let mut held: Vec<Vec<(String, u64)>> = vec![Vec::new(); 3];
    for n in 0..4 {
        ana_ws
            .send(json!({"type": "chat", "message": format!("m{n}"), "id": format!("a{n}")}))
            .await;
        for (who, ws) in [&mut host_ws, &mut ana_ws, &mut bo_ws]
            .into_iter()
            .enumerate()
        {
            let (text, msg) = ws.recv_text().await;
            assert_eq!(msg["message"], format!("m{n}"));
            held[who].push((text, seq(&msg)));
        }
    }
    let server = restart(server);
    // As if the relay had died mid-fan-out: Bo kept only m0, the host m0–m2, Ana all four.
    let last = |who: usize, n: usize| held[who][n].1;

    let mut host_back = resume(&server, &token(&created), Some(last(0, 2))).await;
    let resumed = host_back.expect("session_resumed").await;
    assert_eq!(
        resumed["history_after"], 0,
        "an empty relay asks for everything"
    );
    let entries: Vec<&str> = held[0][..3].iter().map(|(t, _)| t.as_str()).collect();
    host_back
        .send(json!({"type": "history", "entries": entries}))
        .await;
    // Answered after the history was taken (one connection, in order).
    host_back.assert_nothing_pending().await;

    let mut bo_back = resume(&server, &token(&bo), Some(last(2, 0))).await;
    let resumed = bo_back.expect("session_resumed").await;
    assert_eq!(resumed["history_after"], last(0, 2));
    for n in 1..3 {
        assert_eq!(bo_back.expect("chat").await["message"], format!("m{n}"));
    }
    bo_back.expect("playback_update").await;
    // Bo has nothing the relay lacks.
    bo_back
        .send(json!({"type": "history", "entries": []}))
        .await;
    host_back.recv_until("user_joined").await;

    let mut ana_back = resume(&server, &token(&ana), Some(last(1, 3))).await;
    let resumed = ana_back.expect("session_resumed").await;
    assert_eq!(resumed["history_after"], last(0, 2));
    let all: Vec<&str> = held[1].iter().map(|(t, _)| t.as_str()).collect();
    ana_back
        .send(json!({"type": "history", "entries": all}))
        .await;

    // m3 reaches exactly the two who lacked it, once, as it was first sent.
    for ws in [&mut host_back, &mut bo_back] {
        let (text, msg) = loop {
            let (text, msg) = ws.recv_text().await;
            if msg["type"] == "chat" {
                break (text, msg);
            }
        };
        assert_eq!(msg["message"], "m3", "{msg}");
        assert_eq!(text, held[1][3].0, "handed on byte for byte");
    }
    bo_back.assert_nothing_pending().await;
    ana_back.expect("playback_update").await;
    ana_back.assert_nothing_pending().await;
    let metrics = server.metrics().await;
    for line in [
        r#"familiar_history_entries_total{outcome="taken"} 4"#,
        r#"familiar_history_entries_total{outcome="known"} 3"#,
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }

    // Ana's client re-sends m3 (it never knew whether it went out): no one hears it again.
    ana_back
        .send(json!({"type": "chat", "message": "m3", "id": "a3"}))
        .await;
    assert_eq!(ana_back.expect("chat").await["message"], "m3");
    host_back.assert_nothing_pending().await;
    bo_back.assert_nothing_pending().await;
}

#[tokio::test]
async fn forged_foreign_and_unasked_history_is_refused() {
    let server = TestServer::start_with(resumable);
    let [(mut host_ws, created), (mut ana_ws, _), (mut bo_ws, bo)] = room(&server).await;
    ana_ws
        .send(json!({"type": "chat", "message": "real", "id": "r"}))
        .await;
    let (real, real_msg) = ana_ws.recv_text().await;
    host_ws.expect("chat").await;
    bo_ws.expect("chat").await;
    // A second session's sealed frame, valid there.
    let (mut other_host, _) = resumable_host(&server).await;
    other_host
        .send(json!({"type": "chat", "message": "elsewhere"}))
        .await;
    let (foreign, _) = other_host.recv_text().await;
    // Unasked: a member whose welcome did not ask may not send history.
    bo_ws
        .send(json!({"type": "history", "entries": [real.clone()]}))
        .await;
    bo_ws.expect_error("not_allowed").await;

    let server = restart(server);
    let mut host_back = resume(&server, &token(&created), Some(0)).await;
    host_back.expect("session_resumed").await;
    let forged = real.replace("real", "fake");
    let reseq = real.replace(&seq(&real_msg).to_string(), "1");
    host_back
        .send(json!({"type": "history", "entries": [forged, foreign, reseq, "not json", 5]}))
        .await;
    host_back.expect_error("invalid_message").await;
    host_back
        .send(json!({"type": "history", "entries": [forged_again(&real), foreign_again()]}))
        .await;
    let mut bo_back = resume(&server, &token(&bo), Some(0)).await;
    let resumed = bo_back.expect("session_resumed").await;
    assert_eq!(resumed["history_after"], 0, "nothing was taken");
    bo_back.expect("playback_update").await;
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(r#"familiar_history_entries_total{outcome="refused"} 2"#),
        "{metrics}"
    );
}

/// A frame whose text was changed after sealing.
fn forged_again(real: &str) -> String {
    real.replace("real", "fake")
}

/// A well-formed frame with a seal that is not this relay's.
fn foreign_again() -> String {
    r#"{"type":"chat","user_id":"u","username":"X","message":"m","seq":1,"mac":"AAAAAAAAAAAAAAAAAAAAAA"}"#
        .to_string()
}

/// Sockets in every state hear the restart and are closed with 1012: in a session, fresh (said
/// nothing yet), waiting for its host (`host_not_back`), after `leave`. The relay stops
/// accepting first, and exits as soon as the sockets are closed, long before its drain limit.
#[tokio::test]
async fn the_drain_tells_every_socket_whatever_its_state_and_ends_with_them() {
    let server = TestServer::start_with(resumable);
    let (host_ws, created) = resumable_host(&server).await;
    let (other_host, other) = resumable_host(&server).await;
    let (_, other_guest) = resumable_guest(&server, &code_of(&other), "Bo").await;
    drop(other_host);
    let server = restart(server);
    drop(host_ws);

    let mut config = test_config();
    resumable(&mut config);
    config.shutdown_drain_ms = 60_000;
    let addr = server.addr;
    server.stop();
    let mut server = TestServer::start_at(config, addr);
    let mut in_session = resume(&server, &token(&created), Some(0)).await;
    in_session.expect("session_resumed").await;
    let mut waiting = resume(&server, &token(&other_guest), Some(0)).await;
    waiting.expect_error("host_not_back").await;
    let mut after_leave = server.client().await;
    after_leave.assert_nothing_pending_via_leave().await;
    let mut fresh = server.client().await;

    server.begin_stop();
    // The host is asked back first, within its window; everyone else after that window.
    let host_notice = in_session.recv_until("server_restarting").await;
    assert_eq!(host_notice["retry_after_ms"], 100);
    let host_window = host_notice["retry_jitter_ms"].as_u64().unwrap();
    assert!(host_window >= 100, "{host_notice}");
    assert_eq!(in_session.expect_close().await.0, 1012);
    for ws in [&mut waiting, &mut after_leave, &mut fresh] {
        let notice = ws.recv_until("server_restarting").await;
        assert_eq!(notice["retry_after_ms"], 100 + host_window, "{notice}");
        assert!(
            notice["retry_jitter_ms"].as_u64().unwrap() >= 250,
            "{notice}"
        );
        assert_eq!(ws.expect_close().await.0, 1012);
    }
    // No longer accepting: a new socket is not upgraded.
    let late = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        tokio_tungstenite::connect_async(server.ws_url()),
    )
    .await;
    assert!(!matches!(late, Ok(Ok(_))), "upgraded during the drain");
    // Every socket answered its close, so the relay ends now, not after 60 s.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        server.stop();
        let _ = tx.send(());
    });
    tokio::task::spawn_blocking(move || rx.recv_timeout(std::time::Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the relay exits once its sockets are closed");
}

/// While the relay drains, a request that arrives gets the restart notice, never an error
/// that would send the client away (`server_full` before).
#[tokio::test]
async fn a_resume_during_the_drain_is_answered_by_the_restart_notice() {
    let mut server = TestServer::start_with(|c| {
        resumable(c);
        c.shutdown_drain_ms = 3_000;
    });
    let (mut host_ws, created) = resumable_host(&server).await;
    // A socket that holds the drain open: it never answers the close.
    let mut holder = server.client().await;
    server.begin_stop();
    host_ws.recv_until("server_restarting").await;
    // The host's socket is told and closed; a request racing the drain on a socket opened
    // before it meets the same notice.
    holder
        .send(json!({"type": "resume", "token": token(&created)}))
        .await;
    let notice = holder.recv().await;
    assert_eq!(notice["type"], "server_restarting", "{notice}");
    server.stop();
}

/// A guest resuming before the host's `history` arrived is asked only for what lies above the
/// host's `last_seq`: the host holds the rest and was asked for it.
#[tokio::test]
async fn a_guest_is_not_asked_for_what_the_host_already_holds() {
    let server = TestServer::start_with(resumable);
    let [(mut host_ws, created), (mut ana_ws, ana), (mut bo_ws, _bo)] = room(&server).await;
    ana_ws
        .send(json!({"type": "chat", "message": "kept by all", "id": "k"}))
        .await;
    let kept = seq(&ana_ws.expect("chat").await);
    host_ws.expect("chat").await;
    bo_ws.expect("chat").await;
    let server = restart(server);
    let mut host_back = resume(&server, &token(&created), Some(kept)).await;
    assert_eq!(
        host_back.expect("session_resumed").await["history_after"],
        0
    );
    // The host's history is not sent yet.
    let mut ana_back = resume(&server, &token(&ana), Some(kept)).await;
    let resumed = ana_back.expect("session_resumed").await;
    assert_eq!(resumed["history_after"], kept);
}
