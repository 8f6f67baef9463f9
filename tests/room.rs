//! The contract's room rows of `../shared/PROTOCOL.md` over real WebSockets: update_familiar
//! and its sanitizing, chat, reactions and kick. Rules in `actors/src/session/room.rs`.

mod common;

use common::contract::*;
use common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// update_familiar
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn update_familiar_reaches_everyone_including_the_sender() {
    let server = relay();
    let mut t = trio(&server).await;
    t.guest
        .send(json!({
            "type": "update_familiar",
            "familiar": {"variant": "ember", "color": "#A1B2C3", "accent": "orbit", "seed": 42},
        }))
        .await;
    for c in [&mut t.guest, &mut t.host, &mut t.listener] {
        let msg = c.expect("user_updated").await;
        let user = &msg["user"];
        assert_participant_shape(user);
        assert_eq!(user["user_id"], t.guest_id.as_str());
        assert_eq!(user["username"], "Ana");
        assert_eq!(user["role"], "guest");
        assert_eq!(
            user["familiar"],
            json!({"variant": "ember", "color": "#a1b2c3", "accent": "orbit", "seed": 42})
        );
    }
    // The host's own familiar, too.
    t.host
        .send(json!({"type": "update_familiar", "familiar": {"variant": "halo", "seed": 1}}))
        .await;
    for c in [&mut t.guest, &mut t.host, &mut t.listener] {
        let msg = c.expect("user_updated").await;
        assert_eq!(msg["user"]["user_id"], t.host_id.as_str());
        assert_eq!(msg["user"]["role"], "host");
        assert_eq!(msg["user"]["familiar"]["seed"], 1);
        c.assert_nothing_pending().await;
    }
    // A later joiner sees the stored familiar.
    let (_late, joined) = guest(&server, &t.code, "Late").await;
    let ana = participant(&joined, &t.guest_id);
    assert_eq!(ana["familiar"]["variant"], "ember");
    assert_eq!(ana["familiar"]["color"], "#a1b2c3");
}

#[tokio::test]
async fn invalid_familiar_fields_become_defaults_silently() {
    let server = relay();
    let (mut host_ws, created) = host(&server).await;
    let code = code_of(&created);
    // "Zoë": 90 + 111 + 235 = 436 (Unicode code points, not bytes).
    let (mut g, _) = guest(&server, &code, "Zoë").await;
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    let default_seed = 90 + 111 + 235;
    let defaults =
        json!({"variant": "halo", "color": "#7dd3fc", "accent": "drift", "seed": default_seed});

    let cases = [
        (
            json!({"variant": "dragon", "color": "red", "accent": "spin", "seed": -3}),
            defaults.clone(),
        ),
        (
            json!({"variant": "EMBER", "color": "#12345", "accent": 7, "seed": "7"}),
            defaults.clone(),
        ),
        (json!({"color": "#1234567"}), defaults.clone()),
        (json!({"color": "#gggggg"}), defaults.clone()),
        (json!("halo"), defaults.clone()),
        (json!([1, 2]), defaults.clone()),
        (json!(null), defaults.clone()),
        (
            json!({"variant": "prism", "color": "bogus", "accent": "ripple"}),
            json!({"variant": "prism", "color": "#7dd3fc", "accent": "ripple", "seed": default_seed}),
        ),
        (
            json!({"color": "#FFFFFF", "extra": {"x": 1}}),
            json!({"variant": "halo", "color": "#ffffff", "accent": "drift", "seed": default_seed}),
        ),
    ];
    for (input, expected) in cases {
        g.send(json!({"type": "update_familiar", "familiar": input}))
            .await;
        let msg = g.expect("user_updated").await;
        assert_eq!(msg["user"]["familiar"], expected, "input {input}");
        host_ws.expect("user_updated").await;
    }
    // No familiar field at all.
    g.send(json!({"type": "update_familiar"})).await;
    assert_eq!(g.expect("user_updated").await["user"]["familiar"], defaults);
    host_ws.expect("user_updated").await;
    g.assert_nothing_pending().await;
    host_ws.assert_nothing_pending().await;
}

#[tokio::test]
async fn familiar_seed_must_be_a_non_negative_json_integer() {
    let server = relay();
    let (_host_ws, created) = host(&server).await;
    let code = code_of(&created);
    let (mut g, _) = guest(&server, &code, "Zoë").await;
    let default_seed = 90 + 111 + 235;
    let cases = [
        (json!(true), default_seed),
        (json!(false), default_seed),
        (json!(1.5), default_seed),
        (json!(2.0), default_seed),
        (json!("7"), default_seed),
        (json!(-1), default_seed),
        (json!(null), default_seed),
        (json!([3]), default_seed),
        (json!(0), 0),
        (json!(9999), 9999),
        (json!(123_456), 123_456),
    ];
    for (seed, expected) in cases {
        g.send(json!({"type": "update_familiar", "familiar": {"seed": seed}}))
            .await;
        let msg = g.expect("user_updated").await;
        assert_eq!(msg["user"]["familiar"]["seed"], expected, "seed {seed}");
    }
}

#[tokio::test]
async fn familiar_on_create_and_join_is_sanitized_the_same_way() {
    let server = relay();
    let mut h = server.client().await;
    h.send(
        json!({"type": "create", "username": "ab", "familiar": {"variant": "ember", "seed": true}}),
    )
    .await;
    let created = h.expect("session_created").await;
    assert_eq!(
        created["session"]["participants"][0]["familiar"],
        json!({"variant": "ember", "color": "#7dd3fc", "accent": "drift", "seed": 97 + 98})
    );
    let code = code_of(&created);
    let (_g, joined) = join_with(
        &server,
        "join_guest",
        &code,
        json!({"guest_name": "é", "familiar": {"color": "#ABCDEF", "accent": "orbit", "seed": 1.0}}),
    )
    .await;
    assert_eq!(
        joined["session"]["participants"][1]["familiar"],
        json!({"variant": "halo", "color": "#abcdef", "accent": "orbit", "seed": 233})
    );
    let gj = h.expect("guest_joined").await;
    assert_eq!(gj["familiar"]["color"], "#abcdef");
}

// ---------------------------------------------------------------------------------------------
// chat and reactions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn chat_reaches_everyone_including_the_sender_with_control_characters_stripped() {
    let server = relay();
    let mut t = trio(&server).await;
    t.guest
        .send(json!({"type": "chat", "message": "hello"}))
        .await;
    for c in [&mut t.guest, &mut t.host, &mut t.listener] {
        let chat = c.expect("chat").await;
        assert_eq!(chat["user_id"], t.guest_id.as_str());
        assert_eq!(chat["username"], "Ana");
        assert_eq!(chat["message"], "hello");
    }
    t.host
        .send(json!({"type": "chat", "message": "a\u{7}b\u{1b}c\u{0}d\u{7f}e"}))
        .await;
    for c in [&mut t.guest, &mut t.host, &mut t.listener] {
        let chat = c.expect("chat").await;
        assert_eq!(chat["user_id"], t.host_id.as_str());
        assert_eq!(chat["username"], "Dee");
        assert_eq!(chat["message"], "abcde");
        c.assert_nothing_pending().await;
    }
}

#[tokio::test]
async fn over_long_chat_is_refused_with_chat_too_long_and_not_relayed() {
    let server = relay_with(|c| c.max_chat_chars = 10);
    let mut t = trio(&server).await;
    // Exactly the limit, in characters (not bytes): accepted.
    t.guest
        .send(json!({"type": "chat", "message": "éééééééééé"}))
        .await;
    for c in [&mut t.guest, &mut t.host, &mut t.listener] {
        assert_eq!(c.expect("chat").await["message"], "éééééééééé");
    }
    t.guest
        .send(json!({"type": "chat", "message": "01234567890"}))
        .await;
    let err = t.guest.expect_error("chat_too_long").await;
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    for c in [&mut t.guest, &mut t.host, &mut t.listener] {
        c.assert_nothing_pending().await;
    }
}

#[tokio::test]
async fn valid_reactions_are_broadcast_with_a_timestamp_and_invalid_ones_ignored() {
    let server = relay();
    let mut t = trio(&server).await;
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as f64
    };
    for kind in ["cheer", "pulse", "wave", "spark"] {
        t.listener
            .send(json!({"type": "reaction", "kind": kind}))
            .await;
        for c in [&mut t.listener, &mut t.host, &mut t.guest] {
            let r = c.expect("user_reaction").await;
            assert_eq!(r["user_id"], t.listener_id.as_str());
            assert_eq!(r["username"], "Lou");
            assert_eq!(r["kind"], kind);
            let ts = r["timestamp"].as_f64().expect("numeric timestamp");
            assert!(
                (ts - now_ms()).abs() < 60_000.0,
                "timestamp {ts} not near now"
            );
        }
    }
    for kind in ["boo", "CHEER", " cheer", ""] {
        t.guest
            .send(json!({"type": "reaction", "kind": kind}))
            .await;
    }
    t.guest.send(json!({"type": "reaction"})).await;
    for c in [&mut t.guest, &mut t.host, &mut t.listener] {
        c.assert_nothing_pending().await;
    }
}

/// The contract: a `kind` outside the four is ignored — that includes a kind that is not a
/// string at all (no error toast for a sloppy client).
#[tokio::test]
async fn reaction_with_a_non_string_kind_is_ignored_too() {
    let server = relay();
    let mut t = trio(&server).await;
    for kind in [
        json!(null),
        json!(5),
        json!(["cheer"]),
        json!({"k": "wave"}),
    ] {
        t.guest
            .send(json!({"type": "reaction", "kind": kind}))
            .await;
        t.guest.send(json!({"type": "sync_request"})).await;
        let next = t.guest.recv().await;
        assert_eq!(
            next["type"], "sync_response",
            "reaction with kind {kind} must be ignored, got {next}"
        );
    }
    t.host.assert_nothing_pending().await;
}

// ---------------------------------------------------------------------------------------------
// kick
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn kick_tells_the_target_closes_it_with_1000_and_tells_everyone_remaining() {
    let server = relay();
    let mut t = trio(&server).await;
    t.host
        .send(json!({"type": "kick", "target_user_id": t.guest_id}))
        .await;
    let kicked = t.guest.expect("user_kicked").await;
    assert_eq!(kicked["user_id"], t.guest_id.as_str());
    assert_eq!(kicked["reason"], "host_kicked");
    let (code, reason) = t.guest.expect_close().await;
    assert_eq!((code, reason.as_str()), (1000, "kicked"));

    for c in [&mut t.host, &mut t.listener] {
        let left = c.expect("user_left").await;
        assert_eq!(left["user_id"], t.guest_id.as_str());
        assert_eq!(left["participant_count"], 2);
        assert_eq!(left["reason"], "kicked");
    }
    assert_nothing_pending_but_token(&mut t.host).await;
    t.listener.assert_nothing_pending().await;
    let (_, body, _) = server
        .get(&format!("/api/v1/sessions/by-code/{}", t.code))
        .await;
    let public: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(public["participant_count"], 2);
}

#[tokio::test]
async fn kick_by_a_non_host_of_the_host_or_of_an_unknown_id_is_refused() {
    let server = relay();
    let mut t = trio(&server).await;
    let attempts = [
        (0, t.host_id.clone()),     // guest kicks the host
        (0, t.listener_id.clone()), // guest kicks the listener
        (1, t.guest_id.clone()),    // listener kicks the guest
        (2, t.host_id.clone()),     // host kicks itself
        (2, "not-a-user".to_string()),
        (2, uuid_like()),
        (2, String::new()),
    ];
    for (who, target) in attempts {
        let c = match who {
            0 => &mut t.guest,
            1 => &mut t.listener,
            _ => &mut t.host,
        };
        c.send(json!({"type": "kick", "target_user_id": target}))
            .await;
        let err = c.expect("error").await;
        assert_eq!(err["message"], CANNOT_KICK, "kick of {target:?} by {who}");
        assert_eq!(err["code"], "cannot_kick");
    }
    // A kick without a target at all.
    t.host.send(json!({"type": "kick"})).await;
    assert_eq!(t.host.expect("error").await["message"], CANNOT_KICK);
    t.assert_all_quiet().await;
    let (_, body, _) = server
        .get(&format!("/api/v1/sessions/by-code/{}", t.code))
        .await;
    assert!(body.contains("\"participant_count\":3"), "{body}");
}
