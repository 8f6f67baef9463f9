//! The same drops, once for a client that declared the `resume` capability and once for one that
//! did not (the Familiar app, older guest pages), on a relay with the production grace period:
//! only the declared client is kept as away; the other departs at once, exactly as
//! `../shared/PROTOCOL.md` says. Also: how leniently `capabilities` is read, and that a client
//! that resumes anyway has shown it can.

mod common;

use common::*;
use serde_json::{json, Value};

/// The production grace period (30 s), far longer than any wait here: a client that got it
/// would make the "at once" expectations time out.
fn relay() -> TestServer {
    TestServer::start_with(|c| {
        c.resume_grace_ms = 30_000;
        c.heartbeat_interval_ms = 3_600_000;
    })
}

async fn lookup_status(server: &TestServer, code: &str) -> u16 {
    server
        .get(&format!("/api/v1/sessions/by-code/{code}"))
        .await
        .0
}

/// A host, and a guest joined with `capabilities` whose socket then drops without a word:
/// (the host's client, the guest's `session_joined`). The host has read the join notices.
async fn guest_drops(server: &TestServer, capabilities: Value) -> (Client, Value) {
    let (mut host_ws, created) = host(server).await;
    let code = code_of(&created);
    let (guest_ws, joined) = guest_declaring(server, &code, "Ana", capabilities).await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    drop(guest_ws);
    (host_ws, joined)
}

#[tokio::test]
async fn a_guest_that_cannot_resume_is_gone_at_once_when_its_socket_drops() {
    let server = relay();
    let (mut host_ws, joined) = guest_drops(&server, json!(null)).await;
    let left = host_ws.expect("user_left").await;
    assert_eq!(left["user_id"], joined["your_user_id"]);
    assert_eq!(left["reason"], "disconnected");
    assert_eq!(left["participant_count"], 1);
    host_ws.assert_nothing_pending().await;
}

#[tokio::test]
async fn a_guest_that_declared_resume_is_kept_as_away() {
    let server = relay();
    let (mut host_ws, joined) = guest_drops(&server, json!(["resume"])).await;
    let away = host_ws.expect("user_away").await;
    assert_eq!(away["user_id"], joined["your_user_id"]);
    host_ws.assert_nothing_pending().await;
}

#[tokio::test]
async fn a_host_that_cannot_resume_ends_its_session_at_once_when_its_socket_drops() {
    let server = relay();
    let (host_ws, created) = host(&server).await;
    let code = code_of(&created);
    let (mut guest_ws, _) = guest(&server, &code, "Ana").await;

    drop(host_ws);
    let left = guest_ws.expect("user_left").await;
    assert_eq!(left["user_id"], created["your_user_id"]);
    assert_eq!(left["reason"], "host_left");
    assert_eq!(left["participant_count"], 1);
    guest_ws.expect("session_ended").await;
    assert_eq!(lookup_status(&server, &code).await, 404);
    let mut late = server.client().await;
    late.send(json!({"type": "join_guest", "code": code, "guest_name": "Bo"}))
        .await;
    let refused = late.expect("error").await;
    assert_eq!(refused["code"], "session_not_found");
    assert_eq!(refused["message"], "Session not found");
}

#[tokio::test]
async fn a_host_that_declared_resume_keeps_its_session_while_away() {
    let server = relay();
    let (host_ws, created) = resumable_host(&server).await;
    let code = code_of(&created);
    let (mut guest_ws, _) = guest(&server, &code, "Ana").await;

    drop(host_ws);
    let away = guest_ws.expect("host_away").await;
    assert_eq!(away["user_id"], created["your_user_id"]);
    assert_eq!(lookup_status(&server, &code).await, 200);
    let (_bo, joined) = guest(&server, &code, "Bo").await;
    assert_eq!(joined["session"]["participant_count"], 3);
}

#[tokio::test]
async fn a_listener_joining_with_join_follows_the_same_rule() {
    let server = relay();
    let (mut host_ws, created) = host(&server).await;
    let code = code_of(&created);
    for (capabilities, expected) in [(json!(null), "user_left"), (json!(["resume"]), "user_away")] {
        let mut listener = server.client().await;
        let mut join = json!({"type": "join", "code": code, "username": "Lis"});
        if !capabilities.is_null() {
            join["capabilities"] = capabilities;
        }
        listener.send(join).await;
        listener.expect("session_joined").await;
        host_ws.expect("guest_joined").await;
        host_ws.expect("user_joined").await;
        drop(listener);
        assert_eq!(host_ws.expect(expected).await["type"], expected);
    }
}

#[tokio::test]
async fn capabilities_are_read_leniently() {
    let server = relay();
    let (mut host_ws, created) = host(&server).await;
    let code = code_of(&created);
    // Not an array, wrong item types, unknown names: nothing declared, and never an error.
    let undeclared: [Value; 4] = [
        json!("resume"),
        json!({"resume": true}),
        json!([1, true, null]),
        json!(["hello", "RESUME"]),
    ];
    for capabilities in undeclared {
        let (guest_ws, _) = guest_declaring(&server, &code, "Ana", capabilities.clone()).await;
        host_ws.expect("guest_joined").await;
        host_ws.expect("user_joined").await;
        drop(guest_ws);
        let left = host_ws.expect("user_left").await;
        assert_eq!(left["reason"], "disconnected", "for {capabilities}");
    }
    // Known among unknown ones: declared.
    let (guest_ws, _) =
        guest_declaring(&server, &code, "Ana", json!(["up_next", "resume", 7])).await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    drop(guest_ws);
    host_ws.expect("user_away").await;
}

#[tokio::test]
async fn a_client_that_resumes_has_shown_it_can() {
    // An older page of ours that never declared the capability, but does send `resume` with the
    // token it was given: its first drop is a departure, its comeback a re-join, and from then
    // on it is treated as resumable.
    let server = relay();
    let (mut host_ws, created) = host(&server).await;
    let code = code_of(&created);
    let (guest_ws, joined) = guest(&server, &code, "Ana").await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    drop(guest_ws);
    assert_eq!(host_ws.expect("user_left").await["reason"], "disconnected");

    let token = joined["resume_token"].as_str().unwrap().to_string();
    let mut back = server.client().await;
    back.send(json!({"type": "resume", "token": token})).await;
    let resumed = back.expect("session_resumed").await;
    assert_eq!(resumed["your_user_id"], joined["your_user_id"]);
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    drop(back);
    assert_eq!(
        host_ws.expect("user_away").await["user_id"],
        joined["your_user_id"]
    );
}
