//! The shortest end-to-end path: a host creates, a guest joins, both hear about it.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn host_creates_and_guest_joins() {
    let server = TestServer::start();
    let (mut host_ws, created) = host(&server).await;
    let code = created["session"]["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 10);
    let (mut guest_ws, joined) = guest(&server, &code.to_lowercase(), "Ana").await;
    assert_eq!(joined["session"]["participant_count"], 2);
    assert_eq!(joined["your_peer_id"], joined["your_user_id"]);
    let gj = host_ws.expect("guest_joined").await;
    assert_eq!(gj["username"], "Ana");
    let uj = host_ws.expect("user_joined").await;
    assert_eq!(uj["user"]["role"], "guest");
    guest_ws
        .send(json!({"type": "chat", "message": "hi"}))
        .await;
    assert_eq!(guest_ws.expect("chat").await["message"], "hi");
    assert_eq!(host_ws.expect("chat").await["message"], "hi");
    guest_ws.assert_nothing_pending().await;
    let (status, body, _) = server
        .get(&format!("/api/v1/sessions/by-code/{code}"))
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("\"participant_count\":2"), "{body}");
    server.stop();
}
