//! `/metrics` on its private port: after a scripted session, every counter moved by exactly
//! what happened.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn counters_follow_a_scripted_session() {
    let server = TestServer::start();
    let mut host_ws = server.client().await;
    host_ws
        .send(json!({"type": "create", "password": "pw"}))
        .await;
    let created = host_ws.expect("session_created").await;
    let code = created["session"]["code"].as_str().unwrap().to_string();

    // Two joins succeed, one finds nothing, one has the wrong password.
    let mut ana = server.client().await;
    ana.send(json!({"type": "join_guest", "code": code, "guest_name": "Ana", "password": "pw"}))
        .await;
    let ana_id = ana.expect("session_joined").await["your_user_id"].clone();
    let mut bob = server.client().await;
    bob.send(json!({"type": "join", "code": code, "password": "pw"}))
        .await;
    bob.expect("session_joined").await;
    let mut lost = server.client().await;
    lost.send(json!({"type": "join_guest", "code": "NOPE"}))
        .await;
    assert_eq!(lost.expect("error").await["code"], "session_not_found");
    lost.send(json!({"type": "join_guest", "code": code, "password": "no"}))
        .await;
    assert_eq!(lost.expect("error").await["code"], "invalid_password");

    ana.send(json!({"type": "chat", "message": "hello"})).await;
    ana.send(json!({"type": "chat", "message": "again"})).await;
    ana.send(json!({"type": "webrtc_connected", "connected": true, "path": "turn"}))
        .await;
    bob.send(json!({"type": "webrtc_connected", "connected": false, "failed_stage": "ice"}))
        .await;
    ana.recv_until("chat").await;
    ana.recv_until("chat").await;
    host_ws
        .send(json!({"type": "kick", "target_user_id": ana_id}))
        .await;
    assert_eq!(ana.expect_close().await.0, 1000);
    drop(ana);

    let text = wait_for_metric(
        &server,
        "familiar_sockets_closed_total{reason=\"kicked\"}",
        1.0,
    )
    .await;
    let expect = |series: &str, want: f64| {
        assert_eq!(sample(&text, series), want, "{series}\n{text}");
    };
    expect("familiar_sessions_created_total", 1.0);
    expect("familiar_sessions_live", 1.0);
    expect("familiar_participants_live", 2.0);
    expect("familiar_sockets_live", 3.0);
    expect("familiar_joins_total{outcome=\"joined\"}", 2.0);
    expect("familiar_joins_total{outcome=\"not_found\"}", 1.0);
    expect("familiar_joins_total{outcome=\"wrong_password\"}", 1.0);
    expect("familiar_messages_in_total{type=\"chat\"}", 2.0);
    expect("familiar_messages_in_total{type=\"create\"}", 1.0);
    expect("familiar_messages_in_total{type=\"join_guest\"}", 3.0);
    expect("familiar_messages_in_total{type=\"join\"}", 1.0);
    expect("familiar_messages_in_total{type=\"kick\"}", 1.0);
    expect(
        "familiar_errors_sent_total{code=\"session_not_found\"}",
        1.0,
    );
    expect("familiar_errors_sent_total{code=\"invalid_password\"}", 1.0);
    expect("familiar_ice_outcomes_total{path=\"turn\"}", 1.0);
    expect("familiar_ice_outcomes_total{path=\"failed\"}", 1.0);
    expect("familiar_sockets_closed_total{reason=\"kicked\"}", 1.0);
    expect("familiar_join_seconds_count", 2.0);

    // The host leaves: the session ends, the others' sockets count as host-ended when closed.
    host_ws.send(json!({"type": "leave"})).await;
    host_ws.recv_until("left").await;
    bob.recv_until("session_ended").await;
    drop(bob);
    let text = wait_for_metric(&server, "familiar_sessions_live", 0.0).await;
    assert_eq!(sample(&text, "familiar_sessions_live"), 0.0);
    assert_eq!(sample(&text, "familiar_participants_live"), 0.0);
    let text = wait_for_metric(
        &server,
        "familiar_sockets_closed_total{reason=\"host_ended\"}",
        1.0,
    )
    .await;
    assert_eq!(
        sample(
            &text,
            "familiar_sockets_closed_total{reason=\"host_ended\"}"
        ),
        1.0,
        "{text}"
    );
}

#[tokio::test]
async fn rate_limited_messages_are_counted() {
    let server = TestServer::start_with(|c| {
        c.rate_chat_burst = 2.0;
        c.rate_chat_per_sec = 0.01;
    });
    let (mut host_ws, _) = host(&server).await;
    for _ in 0..3 {
        host_ws.send(json!({"type": "chat", "message": "x"})).await;
    }
    // The refusal comes straight from the connection, so it may overtake the relayed chats.
    let mut got = [
        host_ws.recv().await,
        host_ws.recv().await,
        host_ws.recv().await,
    ];
    got.sort_by_key(|m| m["type"].as_str().unwrap_or("").to_string());
    assert_eq!(got[0]["type"], "chat");
    assert_eq!(got[1]["type"], "chat");
    assert_eq!(got[2]["code"], "rate_limited");
    assert!(got[2]["retry_after_ms"].as_u64().unwrap() > 0);
    let text = server.metrics().await;
    assert_eq!(
        sample(&text, "familiar_rate_limited_total{type=\"chat\"}"),
        1.0
    );
    assert_eq!(
        sample(&text, "familiar_errors_sent_total{code=\"rate_limited\"}"),
        1.0
    );
}

#[tokio::test]
async fn metrics_are_not_on_the_public_port() {
    let server = TestServer::start();
    let (status, _, _) = server.get("/metrics").await;
    assert_eq!(status, 404);
}
