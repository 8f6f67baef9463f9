//! The contract's WebRTC rows of `../shared/PROTOCOL.md` over real WebSockets: who may send an
//! offer, an answer or a candidate to whom. Rules in `actors/src/session/signaling.rs`.

mod common;

use common::contract::*;
use common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// WebRTC signaling
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn webrtc_request_asks_the_host_for_an_offer() {
    let server = relay();
    let mut t = trio(&server).await;
    let (mut g2, joined) = guest(&server, &t.code, "Bo").await;
    let g2_peer = joined["your_peer_id"].clone();
    let g2_id = joined["your_user_id"].clone();
    t.host.expect("guest_joined").await;
    t.host.expect("user_joined").await;
    t.guest.expect("user_joined").await;
    t.listener.expect("user_joined").await;

    g2.send(json!({"type": "webrtc_request"})).await;
    let req = t.host.expect("webrtc_create_offer").await;
    assert_eq!(req["target_user_id"], g2_id);
    assert_eq!(req["peer_id"], g2_peer);

    // A listener is a member but not the host: it may ask too.
    t.listener.send(json!({"type": "webrtc_request"})).await;
    let req = t.host.expect("webrtc_create_offer").await;
    assert_eq!(req["target_user_id"], t.listener_id.as_str());

    // The host asking itself is not relayed anywhere (at most the host hears an error).
    t.host.send(json!({"type": "webrtc_request"})).await;
    t.host.send(json!({"type": "sync_request"})).await;
    let mut reply = t.host.recv().await;
    if reply["type"] == "error" {
        reply = t.host.recv().await;
    }
    assert_eq!(reply["type"], "sync_response", "unexpected: {reply}");
    for c in [&mut t.guest, &mut t.listener, &mut g2] {
        c.assert_nothing_pending().await;
    }
}

#[tokio::test]
async fn webrtc_offer_goes_from_the_host_to_its_target_only() {
    let server = relay();
    let mut t = trio(&server).await;
    let sdp = json!({"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", "n": [1, 2.5, null, "ü"]});
    t.host
        .send(json!({"type": "webrtc_offer", "target_user_id": t.guest_id, "sdp": sdp}))
        .await;
    let offer = t.guest.expect("webrtc_offer").await;
    assert_eq!(offer["sdp"], sdp, "sdp is relayed as received");
    assert_eq!(offer["from_user_id"], t.host_id.as_str());
    t.listener.assert_nothing_pending().await;
    t.host.assert_nothing_pending().await;

    // A plain-string sdp is opaque too.
    t.host
        .send(json!({"type": "webrtc_offer", "target_user_id": t.listener_id, "sdp": "raw"}))
        .await;
    assert_eq!(t.listener.expect("webrtc_offer").await["sdp"], "raw");

    // Only the host offers: a guest's offer reaches nobody.
    t.guest
        .send(json!({"type": "webrtc_offer", "target_user_id": t.listener_id, "sdp": "x"}))
        .await;
    let reply = t.guest.recv().await;
    assert_eq!(reply["type"], "error", "a refused offer: {reply}");
    t.listener.assert_nothing_pending().await;
    t.host.assert_nothing_pending().await;

    // An offer to someone unknown or gone is dropped quietly: the host app toasts every error.
    t.host
        .send(json!({"type": "webrtc_offer", "target_user_id": uuid_like(), "sdp": "x"}))
        .await;
    t.host.assert_nothing_pending().await;
    t.guest.send(json!({"type": "leave"})).await;
    t.guest.expect("left").await;
    t.host.expect("user_left").await;
    t.listener.expect("user_left").await;
    t.host
        .send(json!({"type": "webrtc_offer", "target_user_id": t.guest_id, "sdp": "late"}))
        .await;
    t.host
        .send(json!({"type": "webrtc_ice", "target_user_id": t.guest_id, "candidate": {}}))
        .await;
    t.host.assert_nothing_pending().await;
    t.guest.assert_nothing_pending_via_leave().await;
    t.listener.assert_nothing_pending().await;
}

#[tokio::test]
async fn webrtc_answer_goes_to_the_host() {
    let server = relay();
    let mut t = trio(&server).await;
    let sdp = json!({"type": "answer", "sdp": "v=0\r\n"});
    t.guest
        .send(json!({"type": "webrtc_answer", "sdp": sdp}))
        .await;
    let answer = t.host.expect("webrtc_answer").await;
    assert_eq!(answer["sdp"], sdp);
    assert_eq!(answer["from_user_id"], t.guest_id.as_str());
    t.listener
        .send(json!({"type": "webrtc_answer", "sdp": 17}))
        .await;
    let answer = t.host.expect("webrtc_answer").await;
    assert_eq!(answer["sdp"], 17);
    assert_eq!(answer["from_user_id"], t.listener_id.as_str());
    t.assert_all_quiet().await;
}

#[tokio::test]
async fn ice_from_the_host_goes_to_its_target_and_from_anyone_else_only_to_the_host() {
    let server = relay();
    let mut t = trio(&server).await;
    let cand = json!({"candidate": "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0});

    t.host
        .send(json!({"type": "webrtc_ice", "target_user_id": t.guest_id, "candidate": cand}))
        .await;
    let ice = t.guest.expect("webrtc_ice").await;
    assert_eq!(ice["candidate"], cand);
    assert_eq!(ice["from_user_id"], t.host_id.as_str());
    t.listener.assert_nothing_pending().await;

    // A guest naming the listener as target: goes to the host, never to the listener.
    t.guest
        .send(json!({"type": "webrtc_ice", "target_user_id": t.listener_id, "candidate": cand}))
        .await;
    let ice = t.host.expect("webrtc_ice").await;
    assert_eq!(ice["candidate"], cand);
    assert_eq!(ice["from_user_id"], t.guest_id.as_str());
    t.listener.assert_nothing_pending().await;

    // No target, a null target, a bogus target: still the host.
    t.guest
        .send(json!({"type": "webrtc_ice", "candidate": null}))
        .await;
    assert_eq!(t.host.expect("webrtc_ice").await["candidate"], Value::Null);
    t.listener
        .send(json!({"type": "webrtc_ice", "target_user_id": null, "candidate": "c"}))
        .await;
    let ice = t.host.expect("webrtc_ice").await;
    assert_eq!(ice["from_user_id"], t.listener_id.as_str());
    t.listener
        .send(json!({"type": "webrtc_ice", "target_user_id": t.guest_id, "candidate": "c2"}))
        .await;
    assert_eq!(t.host.expect("webrtc_ice").await["candidate"], "c2");

    t.assert_all_quiet().await;
}

#[tokio::test]
async fn webrtc_connected_is_stored_and_announced_to_all_others() {
    let server = relay();
    let mut t = trio(&server).await;
    t.guest
        .send(json!({"type": "webrtc_connected", "connected": true, "path": "turn"}))
        .await;
    for c in [&mut t.host, &mut t.listener] {
        let s = c.expect("webrtc_state_changed").await;
        assert_eq!(s["user_id"], t.guest_id.as_str());
        assert_eq!(s["connected"], true);
        assert_eq!(s["path"], "turn");
        c.assert_nothing_pending().await;
    }
    t.guest.assert_nothing_pending().await;

    // Stored on the participant: a later joiner sees it.
    let (_late, joined) = guest(&server, &t.code, "Late").await;
    let ana = participant(&joined, &t.guest_id);
    assert_eq!(ana["webrtc_connected"], true, "{ana}");
    for c in [&mut t.host, &mut t.guest, &mut t.listener] {
        c.recv_until("user_joined").await;
    }

    // Failure, with the stage it failed at (our addition).
    t.guest
        .send(json!({"type": "webrtc_connected", "connected": false, "failed_stage": "ice"}))
        .await;
    for c in [&mut t.host, &mut t.listener] {
        let s = c.expect("webrtc_state_changed").await;
        assert_eq!(s["user_id"], t.guest_id.as_str());
        assert_eq!(s["connected"], false);
        assert_eq!(s["failed_stage"], "ice");
        assert!(s.get("path").is_none(), "{s}");
    }
    // An old client's bare message (no path) still works.
    t.listener
        .send(json!({"type": "webrtc_connected", "connected": true}))
        .await;
    for c in [&mut t.host, &mut t.guest] {
        let s = c.expect("webrtc_state_changed").await;
        assert_eq!(s["user_id"], t.listener_id.as_str());
        assert_eq!(s["connected"], true);
        c.assert_nothing_pending().await;
    }
    t.listener.assert_nothing_pending().await;
}
