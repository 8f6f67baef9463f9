//! Sessions that survive dropped sockets and relay restarts: resume tokens, the grace period,
//! away/back notices, replay of missed chat, and a restart reclaimed by the host.

mod common;

use common::*;
use familiar_actors::code::SessionCode;
use familiar_actors::familiar::Familiar;
use familiar_actors::protocol::Role;
use familiar_actors::token::{unix_now, ResumeClaims, TokenSigner};
use serde_json::{json, Value};

const SECRET: &str = "a fixed secret for tests";

fn resumable(config: &mut familiar_sessions::config::Config) {
    config.session_secret = Some(SECRET.into());
    config.resume_grace_ms = 30_000;
    config.restart_retry_after_ms = 100;
}

fn token(msg: &Value) -> String {
    msg["resume_token"]
        .as_str()
        .expect("a resume token")
        .to_string()
}

async fn resume(server: &TestServer, token: &str, last_seq: Option<u64>) -> Client {
    let mut c = server.client().await;
    c.send(json!({"type": "resume", "token": token, "last_seq": last_seq}))
        .await;
    c
}

#[tokio::test]
async fn guest_drops_and_resumes_within_grace_and_misses_nothing() {
    let server = TestServer::start_with(resumable);
    let (mut host_ws, created) = resumable_host(&server).await;
    let code = created["session"]["code"].as_str().unwrap();
    let (guest_ws, joined) = resumable_guest(&server, code, "Ana").await;
    let ana_id = joined["your_user_id"].clone();
    let last_seq = joined["session"]["seq"].as_u64().unwrap();
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;

    drop(guest_ws);
    let away = host_ws.expect("user_away").await;
    assert_eq!(away["user_id"], ana_id);
    for text in ["one", "two", "three"] {
        host_ws.send(json!({"type": "chat", "message": text})).await;
        host_ws.expect("chat").await;
    }
    host_ws
        .send(json!({"type": "playback", "track_id": "t1", "is_playing": true, "position_ms": 5}))
        .await;

    let mut back = resume(&server, &token(&joined), Some(last_seq)).await;
    let resumed = back.expect("session_resumed").await;
    assert_eq!(resumed["your_user_id"], ana_id);
    assert_eq!(resumed["session"]["participant_count"], 2);
    assert_ne!(token(&resumed), token(&joined), "a fresh token");
    let missed: Vec<Value> = vec![back.recv().await, back.recv().await, back.recv().await];
    let texts: Vec<&str> = missed
        .iter()
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["one", "two", "three"]);
    let snapshot = back.expect("playback_update").await;
    assert_eq!(snapshot["track_id"], "t1");
    back.assert_nothing_pending().await;
    assert_eq!(host_ws.expect("user_back").await["user_id"], ana_id);

    // Chat flows again, once.
    back.send(json!({"type": "chat", "message": "back"})).await;
    assert_eq!(back.expect("chat").await["message"], "back");
    assert_eq!(host_ws.expect("chat").await["message"], "back");
}

#[tokio::test]
async fn grace_expiry_removes_the_away_guest() {
    let server = TestServer::start_with(|c| {
        resumable(c);
        c.resume_grace_ms = 300;
    });
    let (mut host_ws, created) = resumable_host(&server).await;
    let code = created["session"]["code"].as_str().unwrap();
    let (guest_ws, joined) = resumable_guest(&server, code, "Ana").await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    drop(guest_ws);
    host_ws.expect("user_away").await;
    let left = host_ws.expect("user_left").await;
    assert_eq!(left["user_id"], joined["your_user_id"]);
    assert_eq!(left["reason"], "disconnected");
    assert_eq!(left["participant_count"], 1);
    // Coming back after the grace period still works while the session lives: as a re-join.
    let mut back = resume(&server, &token(&joined), None).await;
    back.expect("session_resumed").await;
    assert_eq!(
        host_ws.expect("guest_joined").await["user_id"],
        joined["your_user_id"]
    );
}

#[tokio::test]
async fn host_drops_and_returns_keeping_the_session() {
    let server = TestServer::start_with(resumable);
    let (host_ws, created) = resumable_host(&server).await;
    let code = created["session"]["code"].as_str().unwrap().to_string();
    let (mut guest_ws, _) = resumable_guest(&server, &code, "Ana").await;
    drop(host_ws);
    let away = guest_ws.expect("host_away").await;
    assert_eq!(away["user_id"], created["your_user_id"]);
    assert_eq!(away["grace_ms"], 30_000);

    let mut host_back = resume(&server, &token(&created), None).await;
    let resumed = host_back.expect("session_resumed").await;
    assert_eq!(resumed["session"]["code"], code.as_str());
    assert_eq!(resumed["your_user_id"], created["your_user_id"]);
    assert_eq!(
        guest_ws.expect("user_back").await["user_id"],
        created["your_user_id"]
    );
    host_back
        .send(json!({"type": "playback", "track_id": "t", "is_playing": true, "position_ms": 1}))
        .await;
    assert_eq!(guest_ws.expect("playback_update").await["track_id"], "t");
}

#[tokio::test]
async fn host_that_never_returns_ends_the_session_after_grace() {
    let server = TestServer::start_with(|c| {
        resumable(c);
        c.resume_grace_ms = 300;
    });
    let (host_ws, created) = resumable_host(&server).await;
    let code = created["session"]["code"].as_str().unwrap().to_string();
    let (mut guest_ws, _) = resumable_guest(&server, &code, "Ana").await;
    drop(host_ws);
    guest_ws.expect("host_away").await;
    let left = guest_ws.expect("user_left").await;
    assert_eq!(left["reason"], "host_left");
    guest_ws.expect("session_ended").await;
    // The ended session's host token no longer brings it back.
    let mut late = resume(&server, &token(&created), None).await;
    assert_eq!(late.expect("error").await["code"], "session_not_found");
}

#[tokio::test]
async fn forged_and_foreign_tokens_are_refused() {
    let server = TestServer::start_with(resumable);
    let (_host_ws, created) = resumable_host(&server).await;
    let genuine = token(&created);
    let (body, _) = genuine.split_once('.').unwrap();
    for bad in [
        format!("{body}.AAAA"),
        "nonsense".to_string(),
        String::new(),
    ] {
        let mut c = resume(&server, &bad, None).await;
        let error = c.expect("error").await;
        assert_eq!(error["code"], "invalid_token");
        assert_eq!(error["message"], "Resume token is not valid");
    }
    let foreign = TokenSigner::new(b"another secret").sign(&claims_for(&created, unix_now() + 60));
    let mut c = resume(&server, &foreign, None).await;
    assert_eq!(c.expect("error").await["code"], "invalid_token");
}

fn claims_for(created: &Value, exp: u64) -> ResumeClaims {
    ResumeClaims {
        code: SessionCode::parse(created["session"]["code"].as_str().unwrap()),
        session_id: created["session"]["id"].as_str().unwrap().into(),
        user_id: "00000000-0000-4000-8000-000000000000".into(),
        role: Role::Guest,
        username: "Mallory".into(),
        familiar: Familiar::default_for("Mallory"),
        exp,
        nonce: 7,
        host: None,
    }
}

#[tokio::test]
async fn expired_tokens_say_so() {
    let server = TestServer::start_with(resumable);
    let (_host_ws, created) = resumable_host(&server).await;
    let expired = TokenSigner::new(SECRET.as_bytes()).sign(&claims_for(&created, unix_now() - 5));
    let mut c = resume(&server, &expired, None).await;
    let error = c.expect("error").await;
    assert_eq!(error["code"], "token_expired");
}

#[tokio::test]
async fn kicked_guest_stays_out_also_across_a_restart() {
    let server = TestServer::start_with(resumable);
    let addr = server.addr;
    let (mut host_ws, created) = resumable_host(&server).await;
    let code = created["session"]["code"].as_str().unwrap().to_string();
    let (_guest_ws, joined) = resumable_guest(&server, &code, "Ana").await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    host_ws
        .send(json!({"type": "kick", "target_user_id": joined["your_user_id"]}))
        .await;
    host_ws.expect("user_left").await;
    let host_token = token(&host_ws.expect("token_refreshed").await);

    let mut again = resume(&server, &token(&joined), None).await;
    assert_eq!(again.expect("error").await["code"], "kicked");

    // Restart: the host reclaims with its refreshed token, which lists the kicked guest.
    drop(host_ws);
    server.stop();
    let mut config = test_config();
    resumable(&mut config);
    let server = TestServer::start_at(config, addr);
    let mut host_back = resume(&server, &host_token, None).await;
    host_back.expect("session_resumed").await;
    let mut again = resume(&server, &token(&joined), None).await;
    assert_eq!(again.expect("error").await["code"], "kicked");
}

#[tokio::test]
async fn restart_is_reclaimed_by_the_host_and_guests_follow() {
    let server = TestServer::start_with(resumable);
    let addr = server.addr;
    let (mut host_ws, created) = resumable_host(&server).await;
    let code = created["session"]["code"].as_str().unwrap().to_string();
    let (mut guest_ws, joined) = resumable_guest(&server, &code, "Ana").await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    guest_ws
        .send(json!({"type": "chat", "message": "before"}))
        .await;
    let before = guest_ws.expect("chat").await;
    host_ws.expect("chat").await;

    let mut server = server;
    server.begin_stop();
    // The host is asked back first; its guest after the host's window.
    for (ws, after) in [(&mut host_ws, 100), (&mut guest_ws, 200)] {
        let notice = ws.expect("server_restarting").await;
        assert_eq!(notice["retry_after_ms"], after);
        assert_eq!(ws.expect_close().await.0, 1012);
    }
    server.stop();

    let mut config = test_config();
    resumable(&mut config);
    let server = TestServer::start_at(config, addr);

    // The guest is faster than the host: told to retry shortly.
    let mut early = resume(&server, &token(&joined), before["seq"].as_u64()).await;
    let error = early.expect("error").await;
    assert_eq!(error["code"], "host_not_back");
    assert!(error["retry_after_ms"].as_u64().unwrap() > 0);

    let mut host_back = resume(&server, &token(&created), None).await;
    let resumed = host_back.expect("session_resumed").await;
    assert_eq!(resumed["session"]["code"], code.as_str());
    assert_eq!(resumed["session"]["id"], created["session"]["id"]);
    assert_eq!(resumed["your_user_id"], created["your_user_id"]);

    let mut guest_back = resume(&server, &token(&joined), before["seq"].as_u64()).await;
    let resumed = guest_back.expect("session_resumed").await;
    assert_eq!(resumed["your_user_id"], joined["your_user_id"]);
    assert_eq!(resumed["session"]["participant_count"], 2);
    host_back.expect("guest_joined").await;
    host_back.expect("user_joined").await;

    guest_back
        .send(json!({"type": "chat", "message": "after"}))
        .await;
    let after = guest_back.recv_until("chat").await;
    assert_eq!(after["message"], "after");
    assert!(
        after["seq"].as_u64() > before["seq"].as_u64(),
        "sequence numbers keep rising across a restart"
    );
    assert_eq!(host_back.expect("chat").await["message"], "after");
}

#[tokio::test]
async fn restored_sessions_still_count_against_the_cap() {
    let server = TestServer::start_with(|c| {
        resumable(c);
        c.max_sessions = 1;
    });
    let addr = server.addr;
    let (_host_ws, created) = resumable_host(&server).await;
    server.stop();
    let mut config = test_config();
    resumable(&mut config);
    config.max_sessions = 1;
    let server = TestServer::start_at(config, addr);
    let (_other, _) = resumable_host(&server).await;
    let mut c = resume(&server, &token(&created), None).await;
    let error = c.expect("error").await;
    assert_eq!(error["code"], "server_full");
    assert_eq!(error["message"], "Server is at the 1-session limit");
}

#[tokio::test]
async fn tokens_never_appear_in_by_code() {
    let server = TestServer::start_with(resumable);
    let (_host_ws, created) = resumable_host(&server).await;
    let code = created["session"]["code"].as_str().unwrap();
    let (_, body, _) = server
        .get(&format!("/api/v1/sessions/by-code/{code}"))
        .await;
    let public: Value = serde_json::from_str(&body).unwrap();
    let keys: Vec<&str> = public
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "code",
            "has_password",
            "name",
            "participant_count",
            "turn_available"
        ]
    );
    assert!(!body.contains(&token(&created)));
}
