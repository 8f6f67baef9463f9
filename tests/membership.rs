//! The contract's membership rows of `../shared/PROTOCOL.md` over real WebSockets: create,
//! join / join_guest (roles, names, case-insensitive codes, ordering), leave, membership-only
//! messages from non-members, and create/join while already in a session. Rules in
//! `actors/src/session/membership.rs`; helpers in `tests/common/contract.rs`.

mod common;

use common::contract::*;
use common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_replies_session_created_with_the_full_session() {
    let server = relay();
    let mut c = server.client().await;
    c.send(json!({
        "type": "create", "name": "Friday", "username": "Dee",
        "familiar": {"variant": "prism", "color": "#ABCDEF", "accent": "ripple", "seed": 7},
    }))
    .await;
    let created = c.expect("session_created").await;
    let me = created["your_user_id"].as_str().unwrap();
    assert!(is_uuid_v4(me), "your_user_id must be UUID v4: {me}");
    assert!(created["ice_servers"].is_array(), "{created}");

    let s = &created["session"];
    for key in [
        "id",
        "code",
        "name",
        "host_id",
        "created_at",
        "participant_count",
        "webrtc_enabled",
        "has_password",
        "playback_state",
        "participants",
    ] {
        assert!(s.get(key).is_some(), "session lacks {key}: {s}");
    }
    assert!(!s["id"].as_str().unwrap().is_empty());
    let code = s["code"].as_str().unwrap();
    assert!(code.len() >= 8, "codes have at least 8 characters: {code}");
    assert!(
        code.chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit())
            && !code.contains(['0', 'O', '1', 'I', 'L']),
        "code uses the unambiguous upper-case alphabet: {code}"
    );
    assert_eq!(s["name"], "Friday");
    assert_eq!(s["host_id"], me);
    let created_at = s["created_at"].as_str().unwrap();
    assert!(
        created_at.contains('T') && (created_at.ends_with('Z') || created_at.ends_with("+00:00")),
        "created_at must be RFC 3339 UTC: {created_at}"
    );
    assert_eq!(s["participant_count"], 1);
    assert_eq!(s["webrtc_enabled"], true);
    assert_eq!(s["has_password"], false);
    assert_eq!(
        s["playback_state"]["track_id"],
        Value::Null,
        "{}",
        s["playback_state"]
    );
    assert_eq!(s["playback_state"]["is_playing"], false);
    assert_eq!(s["playback_state"]["position_ms"].as_f64(), Some(0.0));

    let participants = s["participants"].as_array().unwrap();
    assert_eq!(participants.len(), 1);
    let p = &participants[0];
    assert_participant_shape(p);
    assert_eq!(p["user_id"], me);
    assert_eq!(p["username"], "Dee");
    assert_eq!(p["role"], "host");
    assert_eq!(p["webrtc_connected"], false);
    assert_eq!(
        p["familiar"],
        json!({"variant": "prism", "color": "#abcdef", "accent": "ripple", "seed": 7})
    );
    c.assert_nothing_pending().await;
}

#[tokio::test]
async fn create_defaults_name_username_and_treats_empty_password_as_none() {
    let server = relay();
    for password in [None, Some(json!(null)), Some(json!(""))] {
        let mut c = server.client().await;
        let mut msg = json!({"type": "create"});
        if let Some(p) = &password {
            msg["password"] = p.clone();
        }
        c.send(msg).await;
        let created = c.expect("session_created").await;
        let s = &created["session"];
        assert_eq!(s["name"], "Listening Session");
        assert_eq!(s["has_password"], false, "password {password:?}");
        let host = &s["participants"][0];
        assert_eq!(host["username"], "Host");
        // Default familiar; seed = ('H' + 'o' + 's' + 't') mod 10000.
        assert_eq!(
            host["familiar"],
            json!({"variant": "halo", "color": "#7dd3fc", "accent": "drift", "seed": 72 + 111 + 115 + 116})
        );
    }
    // Empty and whitespace-only names fall back to the defaults too.
    let mut c = server.client().await;
    c.send(json!({"type": "create", "name": "  ", "username": ""}))
        .await;
    let created = c.expect("session_created").await;
    assert_eq!(created["session"]["name"], "Listening Session");
    assert_eq!(created["session"]["participants"][0]["username"], "Host");
}

// ---------------------------------------------------------------------------------------------
// join / join_guest
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn join_makes_a_listener_and_join_guest_a_guest_with_notifications_in_order() {
    let server = relay();
    let (mut host_ws, created) = host(&server).await;
    let code = code_of(&created);
    let host_id = created["your_user_id"].as_str().unwrap().to_string();

    // `join`: a listener.
    let (mut lis, joined) = join_with(&server, "join", &code, json!({"username": "Lou"})).await;
    let lis_id = joined["your_user_id"].as_str().unwrap().to_string();
    assert!(is_uuid_v4(&lis_id));
    assert!(joined["your_peer_id"]
        .as_str()
        .is_some_and(|p| !p.is_empty()));
    assert!(joined["ice_servers"].is_array());
    let s = &joined["session"];
    assert_eq!(s["code"], code.as_str());
    assert_eq!(s["host_id"], host_id.as_str());
    assert_eq!(s["participant_count"], 2);
    assert_eq!(s["webrtc_enabled"], true);
    let ps = s["participants"].as_array().unwrap();
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0]["user_id"], host_id.as_str(), "host first");
    assert_eq!(ps[0]["role"], "host");
    assert_eq!(ps[1]["user_id"], lis_id.as_str());
    assert_eq!(ps[1]["role"], "listener");
    assert_eq!(ps[1]["username"], "Lou");
    ps.iter().for_each(assert_participant_shape);

    // The host: guest_joined, then user_joined.
    let gj = host_ws.expect("guest_joined").await;
    assert_eq!(
        keys(&gj),
        set(&[
            "type",
            "user_id",
            "username",
            "peer_id",
            "familiar",
            "participant_count"
        ]),
        "guest_joined carries exactly the contract's fields (no target_user_id): {gj}"
    );
    assert_eq!(gj["user_id"], lis_id.as_str());
    assert_eq!(gj["username"], "Lou");
    assert_eq!(gj["peer_id"], joined["your_peer_id"]);
    assert_eq!(gj["participant_count"], 2);
    let uj = host_ws.expect("user_joined").await;
    assert_eq!(uj["participant_count"], 2);
    assert_eq!(uj["user"]["user_id"], lis_id.as_str());
    assert_eq!(uj["user"]["role"], "listener");
    assert_participant_shape(&uj["user"]);

    // `join_guest`: a guest; everyone but the joiner hears user_joined.
    let (mut g, joined) = guest(&server, &code, "Ana").await;
    let g_id = joined["your_user_id"].as_str().unwrap().to_string();
    let ps = joined["session"]["participants"].as_array().unwrap();
    let order: Vec<&str> = ps.iter().map(|p| p["role"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        ["host", "listener", "guest"],
        "host first, then join order"
    );
    assert_eq!(ps[2]["user_id"], g_id.as_str());
    assert_eq!(ps[2]["username"], "Ana");
    assert_eq!(joined["session"]["participant_count"], 3);

    let gj = host_ws.expect("guest_joined").await;
    assert_eq!(gj["user_id"], g_id.as_str());
    assert_eq!(gj["participant_count"], 3);
    assert!(gj.get("target_user_id").is_none(), "{gj}");
    let uj = host_ws.expect("user_joined").await;
    assert_eq!(uj["user"]["role"], "guest");
    assert_eq!(uj["participant_count"], 3);
    let uj = lis.expect("user_joined").await;
    assert_eq!(uj["user"]["user_id"], g_id.as_str());
    assert_eq!(uj["participant_count"], 3);

    // The listener never got guest_joined; the joiner never hears about itself.
    host_ws.assert_nothing_pending().await;
    lis.assert_nothing_pending().await;
    g.assert_nothing_pending().await;
}

#[tokio::test]
async fn joiner_name_is_guest_name_else_username_else_guest() {
    let server = relay();
    let (mut host_ws, created) = host(&server).await;
    let code = code_of(&created);
    let cases = [
        (
            "join_guest",
            json!({"guest_name": "Ana", "username": "Bob"}),
            "Ana",
        ),
        ("join_guest", json!({"username": "Bob"}), "Bob"),
        (
            "join_guest",
            json!({"guest_name": null, "username": "Bob"}),
            "Bob",
        ),
        ("join_guest", json!({}), "Guest"),
        ("join", json!({"guest_name": "Cy", "username": "Dan"}), "Cy"),
        ("join", json!({"username": "Dan"}), "Dan"),
        ("join", json!({}), "Guest"),
        // Trimmed, control characters stripped.
        ("join_guest", json!({"guest_name": "  Z\u{7}oe\t "}), "Zoe"),
    ];
    let mut members = Vec::new();
    for (kind, extra, name) in cases {
        let (c, joined) = join_with(&server, kind, &code, extra.clone()).await;
        let me = joined["your_user_id"].as_str().unwrap().to_string();
        let mine = participant(&joined, &me);
        assert_eq!(mine["username"], name, "{kind} {extra}");
        let expected_role = if kind == "join" { "listener" } else { "guest" };
        assert_eq!(mine["role"], expected_role, "{kind} {extra}");
        let gj = host_ws.expect("guest_joined").await;
        assert_eq!(gj["username"], name, "{kind} {extra}");
        let uj = host_ws.expect("user_joined").await;
        assert_eq!(uj["user"]["username"], name);
        members.push(c);
    }
    // Every earlier member heard every later join.
    let n = members.len();
    for (i, m) in members.iter_mut().enumerate() {
        for _ in i + 1..n {
            m.expect("user_joined").await;
        }
        m.assert_nothing_pending().await;
    }
}

#[tokio::test]
async fn long_names_are_cut_at_a_character_boundary() {
    let server = relay_with(|c| c.max_name_chars = 5);
    let (_host_ws, created) = host(&server).await;
    let code = code_of(&created);
    let (_g, joined) = guest(&server, &code, "ééééééééé").await;
    assert_eq!(joined["session"]["participants"][1]["username"], "ééééé");
}

#[tokio::test]
async fn codes_are_case_insensitive_for_join_and_join_guest() {
    let server = relay();
    let (mut host_ws, created) = host(&server).await;
    let code = code_of(&created);
    let lower = code.to_lowercase();
    let mixed: String = code
        .chars()
        .enumerate()
        .map(|(i, ch)| {
            if i % 2 == 0 {
                ch.to_ascii_lowercase()
            } else {
                ch
            }
        })
        .collect();
    let (_a, joined) = join_with(&server, "join_guest", &lower, json!({"guest_name": "A"})).await;
    assert_eq!(joined["session"]["code"], code.as_str());
    let (_b, joined) = join_with(&server, "join", &mixed, json!({"username": "B"})).await;
    assert_eq!(joined["session"]["code"], code.as_str());
    assert_eq!(joined["session"]["participant_count"], 3);
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
}

#[tokio::test]
async fn unknown_code_is_session_not_found_and_the_connection_stays_usable() {
    let server = relay();
    let mut c = server.client().await;
    for kind in ["join", "join_guest"] {
        c.send(json!({"type": kind, "code": "ZZZZZZZZZZ", "guest_name": "X"}))
            .await;
        let err = c.expect_error("session_not_found").await;
        assert_eq!(err["message"], NOT_FOUND);
    }
    // A code that is not a string at all finds nothing rather than failing to parse.
    c.send(json!({"type": "join_guest", "code": 12345})).await;
    assert_eq!(c.expect("error").await["message"], NOT_FOUND);
    c.send(json!({"type": "create"})).await;
    c.expect("session_created").await;
}

#[tokio::test]
async fn joiner_hears_session_joined_before_anything_about_itself() {
    let server = relay();
    let (mut host_ws, created) = host(&server).await;
    let code = code_of(&created);
    let (mut g1, _) = guest(&server, &code, "Ana").await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;

    // The joiner fires its join and two messages without waiting for any answer.
    let mut g2 = server.client().await;
    g2.send(json!({"type": "join_guest", "code": code, "guest_name": "Bo"}))
        .await;
    g2.send(json!({"type": "update_familiar", "familiar": {"variant": "ember"}}))
        .await;
    g2.send(json!({"type": "chat", "message": "first!"})).await;

    let joined = g2.expect("session_joined").await;
    let g2_id = joined["your_user_id"].clone();
    assert_eq!(g2.expect("user_updated").await["user"]["user_id"], g2_id);
    assert_eq!(g2.expect("chat").await["message"], "first!");

    assert_eq!(host_ws.expect("guest_joined").await["user_id"], g2_id);
    assert_eq!(
        host_ws.expect("user_joined").await["user"]["user_id"],
        g2_id
    );
    assert_eq!(
        host_ws.expect("user_updated").await["user"]["user_id"],
        g2_id
    );
    assert_eq!(host_ws.expect("chat").await["user_id"], g2_id);

    assert_eq!(g1.expect("user_joined").await["user"]["user_id"], g2_id);
    assert_eq!(g1.expect("user_updated").await["user"]["user_id"], g2_id);
    assert_eq!(g1.expect("chat").await["user_id"], g2_id);

    for c in [&mut host_ws, &mut g1, &mut g2] {
        c.assert_nothing_pending().await;
    }
}

// ---------------------------------------------------------------------------------------------
// leave
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn leave_answers_left_and_tells_the_others_user_left() {
    let server = relay();
    let mut t = trio(&server).await;
    t.guest.send(json!({"type": "leave"})).await;
    let left = t.guest.expect("left").await;
    assert_eq!(left, json!({"type": "left"}), "left carries nothing");
    for c in [&mut t.host, &mut t.listener] {
        let ul = c.expect("user_left").await;
        assert_eq!(ul["user_id"], t.guest_id.as_str());
        assert_eq!(ul["participant_count"], 2);
        assert!(
            ul.get("reason").is_none() || ul["reason"] != "host_left",
            "a guest's leave is not host_left: {ul}"
        );
        c.assert_nothing_pending().await;
    }
    // The former member is in no session: a second leave still answers left, nothing else.
    t.guest.assert_nothing_pending_via_leave().await;
    t.guest.assert_nothing_pending_via_leave().await;

    // It may join again, as someone new.
    t.guest
        .send(json!({"type": "join_guest", "code": t.code, "guest_name": "Ana"}))
        .await;
    let joined = t.guest.expect("session_joined").await;
    assert_ne!(joined["your_user_id"], t.guest_id.as_str());
    assert_eq!(joined["session"]["participant_count"], 3);
    t.host.expect("guest_joined").await;
    t.host.expect("user_joined").await;

    // Or leave and create its own session.
    t.guest.send(json!({"type": "leave"})).await;
    t.guest.expect("left").await;
    t.guest
        .send(json!({"type": "create", "name": "Mine"}))
        .await;
    let created = t.guest.expect("session_created").await;
    assert_ne!(code_of(&created), t.code);
    assert_eq!(created["session"]["participants"][0]["role"], "host");
}

#[tokio::test]
async fn leave_outside_any_session_still_answers_left() {
    let server = relay();
    let mut c = server.client().await;
    c.send(json!({"type": "leave"})).await;
    assert_eq!(c.expect("left").await, json!({"type": "left"}));
    c.send(json!({"type": "leave"})).await;
    assert_eq!(c.expect("left").await, json!({"type": "left"}));
    // And the connection still works.
    c.send(json!({"type": "create"})).await;
    c.expect("session_created").await;
}

#[tokio::test]
async fn host_may_create_a_new_session_after_leaving() {
    let server = relay();
    let (mut h, created) = host(&server).await;
    let first = code_of(&created);
    h.send(json!({"type": "leave"})).await;
    h.expect("left").await;
    h.send(json!({"type": "create", "name": "Second"})).await;
    let created = h.expect("session_created").await;
    assert_ne!(code_of(&created), first);
    assert_eq!(created["session"]["name"], "Second");
    h.assert_nothing_pending().await;
}

// ---------------------------------------------------------------------------------------------
// membership
// ---------------------------------------------------------------------------------------------

/// Every message that needs membership, as a connection in no session might send it.
fn member_only_messages(someone: &str) -> Vec<Value> {
    vec![
        json!({"type": "playback", "track_id": "t", "is_playing": true, "position_ms": 1}),
        json!({"type": "sync_request"}),
        json!({"type": "chat", "message": "hi"}),
        json!({"type": "reaction", "kind": "cheer"}),
        json!({"type": "update_familiar", "familiar": {"variant": "ember"}}),
        json!({"type": "kick", "target_user_id": someone}),
        json!({"type": "webrtc_request"}),
        json!({"type": "webrtc_offer", "target_user_id": someone, "sdp": "x"}),
        json!({"type": "webrtc_answer", "sdp": "x"}),
        json!({"type": "webrtc_ice", "target_user_id": someone, "candidate": "c"}),
        json!({"type": "webrtc_connected", "connected": true}),
    ]
}

#[tokio::test]
async fn member_only_messages_from_a_non_member_are_ignored_without_error() {
    let server = relay();
    let mut t = trio(&server).await;

    // A connection that never joined.
    let mut stranger = server.client().await;
    for msg in member_only_messages(&t.guest_id) {
        stranger.send(msg).await;
    }
    stranger.assert_nothing_pending_via_leave().await;

    // A former member (left), and the host app's socket that reconnected without rejoining.
    t.listener.send(json!({"type": "leave"})).await;
    t.listener.expect("left").await;
    t.host.expect("user_left").await;
    t.guest.expect("user_left").await;
    for msg in member_only_messages(&t.guest_id) {
        t.listener.send(msg).await;
    }
    t.listener.assert_nothing_pending_via_leave().await;

    // Nobody in the session heard any of it.
    t.host.assert_nothing_pending().await;
    t.guest.assert_nothing_pending().await;
}

#[tokio::test]
async fn create_or_join_while_in_a_session_is_refused_and_the_session_is_untouched() {
    let server = relay();
    let mut t = trio(&server).await;
    let (mut other_host, other) = host(&server).await;
    let other_code = code_of(&other);

    t.host
        .send(json!({"type": "create", "name": "again"}))
        .await;
    t.host.expect_error("already_in_session").await;
    t.guest
        .send(json!({"type": "join_guest", "code": t.code, "guest_name": "twice"}))
        .await;
    t.guest.expect_error("already_in_session").await;
    t.guest
        .send(json!({"type": "join", "code": other_code}))
        .await;
    t.guest.expect_error("already_in_session").await;
    t.listener.send(json!({"type": "create"})).await;
    t.listener.expect_error("already_in_session").await;

    // Nothing changed: same members, same roles, same host, and nobody heard a thing.
    for c in [&mut t.host, &mut t.guest, &mut t.listener, &mut other_host] {
        c.assert_nothing_pending().await;
    }
    let (_, body, _) = server
        .get(&format!("/api/v1/sessions/by-code/{}", t.code))
        .await;
    assert!(body.contains("\"participant_count\":3"), "{body}");
    let (_, body, _) = server
        .get(&format!("/api/v1/sessions/by-code/{other_code}"))
        .await;
    assert!(body.contains("\"participant_count\":1"), "{body}");
    t.guest
        .send(json!({"type": "chat", "message": "still here"}))
        .await;
    for c in [&mut t.guest, &mut t.host, &mut t.listener] {
        assert_eq!(c.expect("chat").await["message"], "still here");
    }
    t.host
        .send(json!({"type": "playback", "is_playing": true}))
        .await;
    t.guest.expect("playback_update").await;
    t.listener.expect("playback_update").await;
    t.host.assert_nothing_pending().await;
}

#[tokio::test]
async fn default_seed_sums_unicode_code_points_mod_10000() {
    let server = relay();
    let (_host_ws, created) = host(&server).await;
    let code = code_of(&created);
    // U+1F600 is one code point (128512), not two UTF-16 units: 128512 mod 10000 = 8512.
    let (_g, joined) = guest(&server, &code, "\u{1F600}").await;
    assert_eq!(
        joined["session"]["participants"][1]["familiar"]["seed"],
        8512
    );
    // 40 × 'ÿ' (255) = 10200, mod 10000 = 200.
    let name = "ÿ".repeat(40);
    let (_g2, joined) = guest(&server, &code, &name).await;
    assert_eq!(
        joined["session"]["participants"][2]["familiar"]["seed"],
        200
    );
}

#[tokio::test]
async fn a_password_sent_to_an_open_session_is_ignored() {
    let server = relay();
    let (mut host_ws, created) = host(&server).await;
    let code = code_of(&created);
    let (_g, joined) = join_with(
        &server,
        "join_guest",
        &code,
        json!({"guest_name": "A", "password": "whatever"}),
    )
    .await;
    assert_eq!(joined["session"]["has_password"], false);
    host_ws.expect("guest_joined").await;
}
