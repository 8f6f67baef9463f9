//! The contract's playback rows of `../shared/PROTOCOL.md` over real WebSockets: playback and
//! sync_request. Rules in `actors/src/session/playback.rs`.

mod common;

use common::contract::*;
use common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// playback and sync_request
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn playback_from_anyone_but_the_host_is_refused_with_the_contract_text() {
    let server = relay();
    let mut t = trio(&server).await;
    for c in [&mut t.guest, &mut t.listener] {
        c.send(
            json!({"type": "playback", "track_id": "evil", "is_playing": true, "position_ms": 5}),
        )
        .await;
        let err = c.expect("error").await;
        assert_eq!(err["message"], NOT_HOST);
        assert_eq!(err["code"], "not_host");
    }
    // Nothing was stored or relayed.
    t.host.assert_nothing_pending().await;
    t.guest.send(json!({"type": "sync_request"})).await;
    let sync = t.guest.expect("sync_response").await;
    assert_eq!(sync["track_id"], Value::Null);
    assert_eq!(sync["is_playing"], false);
    t.listener.assert_nothing_pending().await;
}

#[tokio::test]
async fn playback_update_goes_to_all_but_the_host_with_the_full_stored_state() {
    let server = relay();
    let mut t = trio(&server).await;

    t.host
        .send(json!({
            "type": "playback", "track_id": "t1", "is_playing": true, "position_ms": 1500,
            "track_meta": {
                "title": "Song", "artist": "Band", "album": "LP", "bpm": 120,
                "genre": "jazz", "cover_url": "http://x/y.png", "secret": {"a": 1},
            },
        }))
        .await;
    for c in [&mut t.guest, &mut t.listener] {
        let u = c.expect("playback_update").await;
        assert_eq!(u["track_id"], "t1");
        assert_eq!(u["is_playing"], true);
        assert_eq!(u["position_ms"].as_f64(), Some(1500.0));
        assert_ne!(
            u["heartbeat"], true,
            "a relayed update is not a heartbeat: {u}"
        );
        let meta = &u["track_meta"];
        assert_eq!(
            keys(meta),
            set(&["title", "artist", "album", "bpm"]),
            "only the four keys: {u}"
        );
        assert_eq!(meta["title"], "Song");
        assert_eq!(meta["artist"], "Band");
        assert_eq!(meta["album"], "LP");
        assert_eq!(meta["bpm"].as_f64(), Some(120.0));
    }
    t.host.assert_nothing_pending().await;

    // Only is_playing: the stored track and position come along; track_meta is gone (replaced
    // by each playback, absent means none).
    t.host
        .send(json!({"type": "playback", "is_playing": false}))
        .await;
    for c in [&mut t.guest, &mut t.listener] {
        let u = c.expect("playback_update").await;
        assert_eq!(u["track_id"], "t1", "{u}");
        assert_eq!(u["is_playing"], false);
        assert_eq!(u["position_ms"].as_f64(), Some(1500.0), "{u}");
        assert!(
            u.get("track_meta").is_none() || u["track_meta"].is_null(),
            "absent track_meta means none: {u}"
        );
    }

    // Only position_ms.
    t.host
        .send(json!({"type": "playback", "position_ms": 3000, "track_meta": {"title": "Only"}}))
        .await;
    for c in [&mut t.guest, &mut t.listener] {
        let u = c.expect("playback_update").await;
        assert_eq!(u["track_id"], "t1");
        assert_eq!(u["is_playing"], false);
        assert_eq!(u["position_ms"].as_f64(), Some(3000.0));
        assert_eq!(u["track_meta"], json!({"title": "Only"}), "{u}");
    }

    // track_id null clears the track; the rest is kept.
    t.host
        .send(json!({"type": "playback", "track_id": null}))
        .await;
    for c in [&mut t.guest, &mut t.listener] {
        let u = c.expect("playback_update").await;
        assert_eq!(u["track_id"], Value::Null, "{u}");
        assert_eq!(u["is_playing"], false);
        assert_eq!(u["position_ms"].as_f64(), Some(3000.0));
    }

    // sync_request answers the stored state, to the sender only.
    t.guest.send(json!({"type": "sync_request"})).await;
    let sync = t.guest.expect("sync_response").await;
    assert_eq!(
        keys(&sync),
        set(&["type", "track_id", "is_playing", "position_ms"])
    );
    assert_eq!(sync["track_id"], Value::Null);
    assert_eq!(sync["is_playing"], false);
    assert_eq!(sync["position_ms"].as_f64(), Some(3000.0));
    t.assert_all_quiet().await;

    // A late joiner starts from the stored state.
    t.host
        .send(json!({"type": "playback", "track_id": "t2", "is_playing": true, "position_ms": 10}))
        .await;
    t.guest.expect("playback_update").await;
    let (_late, joined) = guest(&server, &t.code, "Late").await;
    let ps = &joined["session"]["playback_state"];
    assert_eq!(ps["track_id"], "t2");
    assert_eq!(ps["is_playing"], true);
    assert_eq!(ps["position_ms"].as_f64(), Some(10.0));
}

#[tokio::test]
async fn sync_request_answers_the_sender_with_the_current_state() {
    let server = relay();
    let mut t = trio(&server).await;
    for c in [&mut t.host, &mut t.guest, &mut t.listener] {
        c.send(json!({"type": "sync_request"})).await;
        let sync = c.expect("sync_response").await;
        assert_eq!(sync["track_id"], Value::Null);
        assert_eq!(sync["is_playing"], false);
        assert_eq!(sync["position_ms"].as_f64(), Some(0.0));
    }
    t.host
        .send(json!({"type": "playback", "track_id": "x", "is_playing": true, "position_ms": 42.5}))
        .await;
    t.listener.expect("playback_update").await;
    t.listener.send(json!({"type": "sync_request"})).await;
    let sync = t.listener.expect("sync_response").await;
    assert_eq!(sync["track_id"], "x");
    assert_eq!(sync["is_playing"], true);
    assert_eq!(sync["position_ms"].as_f64(), Some(42.5));
    t.guest.expect("playback_update").await;
    t.assert_all_quiet().await;
}

// ---------------------------------------------------------------------------------------------
// up_next (our addition; see docs/protocol.md "Up next")
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn up_next_reaches_the_guests_sanitized_and_late_joiners_see_it() {
    let server = relay();
    let mut t = trio(&server).await;
    let mut queue: Vec<Value> = vec![
        json!({"title": "  Two  ", "artist": "B", "album": "LP", "bpm": 90, "cover": "x"}),
        json!("not an object"),
        json!({"title": 7, "artist": "C"}),
        json!({"title": "x".repeat(300)}),
    ];
    queue.extend((0..12).map(|i| json!({"title": format!("Later {i}")})));
    t.host
        .send(json!({"type": "playback", "track_id": "t1", "is_playing": true, "up_next": queue}))
        .await;
    for c in [&mut t.guest, &mut t.listener] {
        let u = c.expect("playback_update").await;
        let up_next = u["up_next"].as_array().expect("up_next passed on");
        assert_eq!(up_next.len(), 10, "at most ten: {u}");
        assert_eq!(
            up_next[0],
            json!({"title": "Two", "artist": "B", "album": "LP"})
        );
        assert_eq!(
            up_next[1],
            json!({"artist": "C"}),
            "non-objects dropped, non-strings too"
        );
        assert_eq!(
            up_next[2]["title"].as_str().map(|s| s.chars().count()),
            Some(200)
        );
        assert_eq!(up_next[9]["title"], "Later 6");
    }
    let (_late, joined) = guest(&server, &t.code, "Late").await;
    assert_eq!(joined["session"]["up_next"][0]["title"], "Two");
    assert_eq!(
        joined["session"]["up_next"].as_array().map(Vec::len),
        Some(10)
    );
}

#[tokio::test]
async fn a_playback_without_up_next_or_with_a_bad_one_carries_none() {
    let server = relay();
    let mut t = trio(&server).await;
    t.host
        .send(json!({"type": "playback", "track_id": "t1", "up_next": [{"title": "A"}]}))
        .await;
    assert_eq!(
        t.guest.expect("playback_update").await["up_next"][0]["title"],
        "A"
    );
    for next in [json!(null), json!("soon"), json!({"title": "A"})] {
        t.host
            .send(json!({"type": "playback", "is_playing": true, "up_next": next}))
            .await;
        let u = t.guest.expect("playback_update").await;
        assert!(u.get("up_next").is_none(), "{next} is no up_next: {u}");
    }
    // Absent: replaced like track_meta (the host says nothing about a queue).
    t.host
        .send(json!({"type": "playback", "up_next": []}))
        .await;
    assert_eq!(
        t.guest.expect("playback_update").await["up_next"],
        json!([])
    );
    t.host
        .send(json!({"type": "playback", "position_ms": 3}))
        .await;
    let u = t.guest.expect("playback_update").await;
    assert!(u.get("up_next").is_none(), "{u}");
    t.host.assert_nothing_pending().await;
}
