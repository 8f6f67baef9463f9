//! The HTTP surface of the contract: `/health`, the public by-code lookup (exact shape, 404 body,
//! case-insensitive code, open CORS), the pages (`/` and `/listen/{code}`, with and without a
//! built guest app, their cache and referrer headers, hashed assets cached for good), the ICE
//! servers handed out against what the public lookup must never show, and the optional
//! `ALLOWED_ORIGINS` check on the WebSocket.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use common::*;
use familiar_sessions::config::Config;
use serde_json::{json, Value};

fn relay_with(configure: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start_with(configure)
}

fn relay() -> TestServer {
    relay_with(|_| {})
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// A raw HTTP/1.1 request with `method` and extra header lines: (status, headers).
async fn raw_request(addr: SocketAddr, method: &str, path: &str, extra: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text.to_ascii_lowercase())
}

// ---------------------------------------------------------------------------------------------
// /health and the public lookup
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn health_answers_exactly_status_healthy() {
    let server = relay();
    let (status, body, headers) = server.get("/health").await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"status": "healthy"})
    );
    assert_eq!(body.trim(), r#"{"status":"healthy"}"#);
    assert!(
        header(&headers, "content-type").is_some_and(|v| v.starts_with("application/json")),
        "{headers:?}"
    );
}

#[tokio::test]
async fn by_code_returns_exactly_the_public_fields_with_open_cors() {
    let server = relay();
    let (mut h, created) = host(&server).await;
    let code = code_of(&created);
    let (_g, _) = guest(&server, &code, "Ana").await;
    h.expect("guest_joined").await;
    h.expect("user_joined").await;

    for path_code in [code.clone(), code.to_lowercase()] {
        let (status, body, headers) = server
            .get(&format!("/api/v1/sessions/by-code/{path_code}"))
            .await;
        assert_eq!(status, 200, "{body}");
        let public: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            keys(&public),
            [
                "code",
                "name",
                "participant_count",
                "has_password",
                "turn_available"
            ]
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
            "only the public fields: {body}"
        );
        assert_eq!(public["code"], code.as_str());
        assert_eq!(public["name"], "Friday");
        assert_eq!(public["participant_count"], 2);
        assert_eq!(public["has_password"], false);
        assert_eq!(public["turn_available"], false);
        let session_id = created["session"]["id"].as_str().unwrap();
        let host_id = created["your_user_id"].as_str().unwrap();
        assert!(
            !body.contains(session_id) && !body.contains(host_id),
            "no ids in the public session: {body}"
        );
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            Some("*"),
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn by_code_participant_count_follows_joins_and_leaves() {
    let server = relay();
    let (_h, created) = host(&server).await;
    let code = code_of(&created);
    let count =
        |body: String| serde_json::from_str::<Value>(&body).unwrap()["participant_count"].clone();
    let path = format!("/api/v1/sessions/by-code/{code}");
    assert_eq!(count(server.get(&path).await.1), 1);
    let (mut g, _) = guest(&server, &code, "Ana").await;
    assert_eq!(count(server.get(&path).await.1), 2);
    g.send(json!({"type": "leave"})).await;
    g.expect("left").await;
    assert_eq!(count(server.get(&path).await.1), 1);
}

#[tokio::test]
async fn by_code_unknown_is_404_with_detail_and_open_cors() {
    let server = relay();
    for code in ["ZZZZZZZZZZ", "nope", "abc-def"] {
        let (status, body, headers) = server
            .get(&format!("/api/v1/sessions/by-code/{code}"))
            .await;
        assert_eq!(status, 404);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"detail": "Session not found"})
        );
        assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
    }
}

#[tokio::test]
async fn by_code_cors_preflight_is_open() {
    let server = relay();
    let (status, text) = raw_request(
        server.addr,
        "OPTIONS",
        "/api/v1/sessions/by-code/ABCDEFGHJK",
        "Origin: http://nas.local:3000\r\nAccess-Control-Request-Method: GET\r\n",
    )
    .await;
    assert!((200..300).contains(&status), "{text}");
    assert!(text.contains("access-control-allow-origin: *"), "{text}");
}

#[tokio::test]
async fn static_turn_is_handed_to_members_but_never_shown_publicly() {
    let server = relay_with(|c| {
        c.stun_urls = vec!["stun:stun.test:3478".into()];
        c.turn_server_url = Some("turn:turn.test:3478".into());
        c.turn_server_username = Some("turn-user".into());
        c.turn_server_credential = Some("turn-secret-credential".into());
    });
    let (_h, created) = host(&server).await;
    let ice = created["ice_servers"].as_array().unwrap();
    let urls = |s: &Value| match &s["urls"] {
        Value::String(u) => vec![u.clone()],
        Value::Array(list) => list
            .iter()
            .map(|u| u.as_str().unwrap().to_string())
            .collect(),
        other => panic!("urls must be a string or a list: {other}"),
    };
    assert!(
        ice.iter()
            .any(|s| urls(s).contains(&"stun:stun.test:3478".to_string())),
        "{created}"
    );
    let turn = ice
        .iter()
        .find(|s| urls(s).contains(&"turn:turn.test:3478".to_string()))
        .unwrap_or_else(|| panic!("static TURN missing: {created}"));
    assert_eq!(turn["username"], "turn-user");
    assert_eq!(turn["credential"], "turn-secret-credential");
    for server_entry in ice {
        for key in keys(server_entry) {
            assert!(
                ["urls", "username", "credential"].contains(&key.as_str()),
                "IceServer has only urls, username, credential: {server_entry}"
            );
        }
    }

    let code = code_of(&created);
    let (_g, joined) = guest(&server, &code, "Ana").await;
    assert_eq!(joined["ice_servers"], created["ice_servers"]);

    let (_, body, _) = server
        .get(&format!("/api/v1/sessions/by-code/{code}"))
        .await;
    let public: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(public["turn_available"], true);
    for secret in [
        "turn-secret-credential",
        "turn-user",
        "turn:turn.test",
        "stun:",
    ] {
        assert!(!body.contains(secret), "{secret} leaked: {body}");
    }
}

// ---------------------------------------------------------------------------------------------
// Pages and assets
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn pages_serve_the_not_built_page_when_the_guest_app_is_missing() {
    let server = relay();
    for path in ["/", "/listen/ABCDEFGHJK", "/listen/abcdefghjk"] {
        let (status, body, headers) = server.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            header(&headers, "content-type").is_some_and(|v| v.starts_with("text/html")),
            "{path}: {headers:?}"
        );
        assert!(body.contains("<html"), "{path}: {body}");
        assert!(body.contains("not been built"), "{path}: {body}");
        assert_eq!(
            header(&headers, "referrer-policy"),
            Some("no-referrer"),
            "{path}: the URL holds the code"
        );
        assert!(
            header(&headers, "cache-control").is_some_and(|v| v.contains("no-cache")),
            "{path}: {headers:?}"
        );
    }
}

/// A throwaway guest-app build: `index.html` and `assets/x.js`, removed on drop.
struct StaticDir(PathBuf);

impl StaticDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "familiar-static-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(
            dir.join("index.html"),
            "<!doctype html><title>guest app</title><script src=\"/assets/x.js\"></script>",
        )
        .unwrap();
        std::fs::write(dir.join("assets/x.js"), "console.log('built');").unwrap();
        StaticDir(dir)
    }
}

impl Drop for StaticDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_built_guest_app_is_served_uncached_and_its_assets_cached_for_good() {
    let dir = StaticDir::new("built");
    let path = dir.0.clone();
    let server = relay_with(move |c| c.static_dir = path);
    for page in ["/", "/listen/ABCDEFGHJK"] {
        let (status, body, headers) = server.get(page).await;
        assert_eq!(status, 200, "{page}");
        assert!(body.contains("<title>guest app</title>"), "{page}: {body}");
        assert!(
            header(&headers, "content-type").is_some_and(|v| v.starts_with("text/html")),
            "{page}: {headers:?}"
        );
        assert!(
            header(&headers, "cache-control").is_some_and(|v| v.contains("no-cache")),
            "{page}: index.html is never cached: {headers:?}"
        );
        assert_eq!(header(&headers, "referrer-policy"), Some("no-referrer"));
    }
    let (status, body, headers) = server.get("/assets/x.js").await;
    assert_eq!(status, 200);
    assert_eq!(body, "console.log('built');");
    let cache = header(&headers, "cache-control").unwrap_or_default();
    assert!(
        cache.contains("max-age=31536000") && cache.contains("immutable"),
        "hashed assets are cached for a year: {cache:?}"
    );
}

#[tokio::test]
async fn index_html_requested_by_name_is_never_cached_either() {
    let dir = StaticDir::new("by-name");
    let path = dir.0.clone();
    let server = relay_with(move |c| c.static_dir = path);
    let (status, body, headers) = server.get("/index.html").await;
    assert_eq!(status, 200);
    assert!(body.contains("<title>guest app</title>"));
    assert!(
        header(&headers, "cache-control").is_some_and(|v| v.contains("no-cache")),
        "index.html names this build's hashed assets; a cached copy points at deleted ones: \
         {headers:?}"
    );
}

#[tokio::test]
async fn a_missing_asset_is_not_cached_for_a_year() {
    let dir = StaticDir::new("missing");
    let path = dir.0.clone();
    let server = relay_with(move |c| c.static_dir = path);
    let (status, _, headers) = server.get("/assets/missing-abc123.js").await;
    assert_eq!(status, 404);
    let cache = header(&headers, "cache-control").unwrap_or_default();
    assert!(
        !cache.contains("immutable") && !cache.contains("max-age=31536000"),
        "a 404 (e.g. an asset of a build not yet rolled out here) must not be cached as \
         immutable: {cache:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// ALLOWED_ORIGINS
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn any_origin_may_open_the_websocket_by_default() {
    let server = relay();
    let mut c =
        try_connect_with_headers(&server.ws_url(), &[("Origin", "http://192.168.1.20:3000")])
            .await
            .expect("any origin by default");
    c.send(json!({"type": "create"})).await;
    c.expect("session_created").await;
}

#[tokio::test]
async fn allowed_origins_refuse_other_origins_with_403() {
    let server = relay_with(|c| {
        c.allowed_origins = vec![
            "https://familiar.example".into(),
            "http://nas.local:3000/".into(),
        ]
    });
    let url = server.ws_url();
    for bad in [
        "https://evil.example",
        "https://familiar.example.evil",
        "null",
    ] {
        let refused = try_connect_with_headers(&url, &[("Origin", bad)]).await;
        assert_eq!(refused.err(), Some(403), "origin {bad}");
    }
    for good in ["https://familiar.example", "http://nas.local:3000"] {
        let mut c = try_connect_with_headers(&url, &[("Origin", good)])
            .await
            .unwrap_or_else(|status| panic!("origin {good} refused with {status}"));
        c.send(json!({"type": "create"})).await;
        c.expect("session_created").await;
    }
    // The HTTP routes stay open.
    let (status, _, _) = server.get("/health").await;
    assert_eq!(status, 200);
}
