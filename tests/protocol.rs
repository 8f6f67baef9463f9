//! The contract table of `../shared/PROTOCOL.md`, row by row, over real WebSockets: create,
//! join / join_guest (roles, names, case-insensitive codes, ordering), update_familiar and its
//! sanitizing, playback and sync_request, chat, reactions, kick, leave, the WebRTC routing rules,
//! membership-only messages from non-members, and create/join while already in a session.
//!
//! Every test runs its own relay with the production resume grace period (30 s) and clients that
//! declare no capabilities, as the Familiar app and older guest pages do, so every row is proven
//! as those clients meet it; and a heartbeat far in the future, so no heartbeat can slip between
//! the frames a test expects. Absence of a message is proven with a sentinel request whose answer
//! must be the very next frame.

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};

const NOT_FOUND: &str = "Session not found";
const NOT_HOST: &str = "Only the host can control playback";
const CANNOT_KICK: &str = "Cannot kick that participant";

/// A relay with the contract's immediate-disconnect semantics and no heartbeat during a test.
fn relay() -> TestServer {
    relay_with(|_| {})
}

fn relay_with(configure: impl FnOnce(&mut familiar_sessions::config::Config)) -> TestServer {
    TestServer::start_with(|c| {
        c.heartbeat_interval_ms = 3_600_000;
        configure(c);
    })
}

/// The set of keys of a JSON object.
fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Joins `code` with a message of `kind` (`join` or `join_guest`) carrying `extra` fields.
async fn join_with(server: &TestServer, kind: &str, code: &str, extra: Value) -> (Client, Value) {
    let mut c = server.client().await;
    let mut msg = json!({"type": kind, "code": code});
    for (k, v) in extra.as_object().unwrap() {
        msg[k] = v.clone();
    }
    c.send(msg).await;
    let joined = c.expect("session_joined").await;
    (c, joined)
}

/// A host (username "Dee"), a guest "Ana" and a listener "Lou", with every join notification
/// already consumed. Returns (host, guest, listener, code, host id, guest id, listener id).
struct Trio {
    host: Client,
    guest: Client,
    listener: Client,
    code: String,
    host_id: String,
    guest_id: String,
    listener_id: String,
}

impl Trio {
    /// Proves nothing else is queued for any of the three members.
    async fn assert_all_quiet(&mut self) {
        for c in [&mut self.host, &mut self.guest, &mut self.listener] {
            c.assert_nothing_pending().await;
        }
    }
}

async fn trio(server: &TestServer) -> Trio {
    let (mut host_ws, created) = host(server).await;
    let code = code_of(&created);
    let host_id = created["your_user_id"].as_str().unwrap().to_string();
    let (guest_ws, joined) = guest(server, &code, "Ana").await;
    let guest_id = joined["your_user_id"].as_str().unwrap().to_string();
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    let (listener_ws, joined) = join_with(server, "join", &code, json!({"username": "Lou"})).await;
    let listener_id = joined["your_user_id"].as_str().unwrap().to_string();
    host_ws.expect("guest_joined").await;
    host_ws.expect("user_joined").await;
    let mut guest_ws = guest_ws;
    guest_ws.expect("user_joined").await;
    Trio {
        host: host_ws,
        guest: guest_ws,
        listener: listener_ws,
        code,
        host_id,
        guest_id,
        listener_id,
    }
}

/// Like `assert_nothing_pending`, but tolerates the relay's `token_refreshed` (an addition the
/// host gets after a kick) before the sentinel's answer.
async fn assert_nothing_pending_but_token(c: &mut Client) {
    c.send(json!({"type": "sync_request"})).await;
    loop {
        let msg = c.recv().await;
        match msg["type"].as_str() {
            Some("sync_response") => return,
            Some("token_refreshed") => continue,
            _ => panic!("unexpected pending message: {msg}"),
        }
    }
}

fn assert_participant_shape(p: &Value) {
    for key in [
        "user_id",
        "username",
        "role",
        "familiar",
        "joined_at",
        "webrtc_connected",
    ] {
        assert!(p.get(key).is_some(), "participant lacks {key}: {p}");
    }
    assert!(is_uuid_v4(p["user_id"].as_str().unwrap()), "{p}");
    let joined_at = p["joined_at"].as_str().unwrap();
    assert!(
        joined_at.contains('T') && (joined_at.ends_with('Z') || joined_at.ends_with("+00:00")),
        "joined_at must be RFC 3339 UTC: {joined_at}"
    );
    assert!(p["webrtc_connected"].is_boolean(), "{p}");
    assert_eq!(
        keys(&p["familiar"]),
        set(&["variant", "color", "accent", "seed"]),
        "{p}"
    );
}

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
        let mine = joined["session"]["participants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["user_id"] == me.as_str())
            .unwrap()
            .clone();
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
    let ana = joined["session"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == t.guest_id.as_str())
        .unwrap()
        .clone();
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

fn uuid_like() -> String {
    "8f6e2c1a-3b4d-4e5f-9a0b-1c2d3e4f5a6b".to_string()
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
    let ana = joined["session"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == t.guest_id.as_str())
        .unwrap()
        .clone();
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
