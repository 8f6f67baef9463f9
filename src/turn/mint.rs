//! The Cloudflare mint itself: one HTTPS request for fresh TURN credentials (awc over rustls
//! with webpki roots), its answer parsed and filtered to what browsers can use, and the error
//! classes logs may show (never a credential or the token).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use familiar_actors::protocol::IceServer;
use serde::Deserialize;
use serde_json::Value;

use super::MAX_ANSWER_BYTES;

/// The HTTP client for the mint: rustls with the ring provider and the webpki roots, chosen
/// explicitly so no process-wide crypto provider has to be installed; no redirects, so the bearer
/// token only ever goes to the configured host.
pub(super) fn http_client(timeout: Duration) -> awc::Client {
    let mut connector = awc::Connector::new().timeout(timeout);
    match tls_config() {
        Ok(tls) => connector = connector.rustls_0_23(Arc::new(tls)),
        // Only http:// bases work then; each https:// mint fails and says why in the log.
        Err(e) => log::error!("TLS unavailable for Cloudflare TURN: {e}"),
    }
    awc::Client::builder()
        .connector(connector)
        .timeout(timeout)
        .disable_redirects()
        .finish()
}

fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Why a mint failed, in words safe to log: never a header, a body or a value from the answer.
#[derive(Debug)]
pub(super) enum MintError {
    /// No complete answer within `request_timeout`.
    Timeout,
    /// Connecting, TLS or HTTP failed before an answer (awc's message, which names no secret).
    Transport(String),
    /// 401/403: the token id or API token is wrong or revoked.
    Unauthorized(u16),
    /// Any other non-2xx status.
    Status(u16),
    /// The answer is not the JSON we expect (the serde category and position only).
    Malformed(String),
    /// The answer parsed but had no ICE server with a usable URL.
    NoServers,
}

impl fmt::Display for MintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MintError::Timeout => write!(f, "timeout"),
            MintError::Transport(e) => write!(f, "transport error: {e}"),
            MintError::Unauthorized(code) => write!(
                f,
                "HTTP {code}: check CLOUDFLARE_TURN_TOKEN_ID and CLOUDFLARE_TURN_API_TOKEN"
            ),
            MintError::Status(code) => write!(f, "HTTP {code}"),
            MintError::Malformed(what) => write!(f, "malformed answer: {what}"),
            MintError::NoServers => write!(f, "answer has no usable ICE server"),
        }
    }
}

/// One `generate-ice-servers` call.
pub(super) async fn mint(
    client: &awc::Client,
    url: &str,
    api_token: &str,
    ttl_secs: u64,
) -> Result<Vec<IceServer>, MintError> {
    let mut response = client
        .post(url)
        .bearer_auth(api_token)
        .send_json(&serde_json::json!({ "ttl": ttl_secs }))
        .await
        .map_err(|e| match e {
            awc::error::SendRequestError::Timeout => MintError::Timeout,
            other => MintError::Transport(other.to_string()),
        })?;
    let status = response.status();
    if status.as_u16() == 401 || status.as_u16() == 403 {
        return Err(MintError::Unauthorized(status.as_u16()));
    }
    if !status.is_success() {
        return Err(MintError::Status(status.as_u16()));
    }
    let body = response
        .body()
        .limit(MAX_ANSWER_BYTES)
        .await
        .map_err(|e| match e {
            awc::error::PayloadError::Overflow => {
                MintError::Malformed(format!("larger than {MAX_ANSWER_BYTES} bytes"))
            }
            other => MintError::Transport(other.to_string()),
        })?;
    parse_answer(&body)
}

/// The mint answer: `iceServers` is a list in the current API and a single object in older
/// answers; both are accepted.
#[derive(Deserialize)]
struct MintAnswer {
    #[serde(rename = "iceServers")]
    ice_servers: OneOrMany,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<IceServer>),
    One(IceServer),
}

/// Parses a mint answer into the entries to hand out: URLs on port 53 are dropped (browsers
/// refuse that port, and Cloudflare's docs advise filtering it), then entries left without a URL.
fn parse_answer(body: &[u8]) -> Result<Vec<IceServer>, MintError> {
    let answer: MintAnswer = serde_json::from_slice(body).map_err(|e| {
        // serde_json's message can quote values from the answer (credentials): keep only where.
        MintError::Malformed(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let servers = match answer.ice_servers {
        OneOrMany::Many(list) => list,
        OneOrMany::One(one) => vec![one],
    };
    let usable: Vec<IceServer> = servers.into_iter().filter_map(usable_server).collect();
    if usable.is_empty() {
        return Err(MintError::NoServers);
    }
    Ok(usable)
}

/// The entry with only its usable URLs, or `None` when none is left.
fn usable_server(mut server: IceServer) -> Option<IceServer> {
    let keep = |url: &str| !url.is_empty() && !on_port_53(url);
    server.urls = match server.urls {
        Value::String(url) if keep(&url) => Value::String(url),
        Value::Array(urls) => {
            let kept: Vec<Value> = urls
                .into_iter()
                .filter(|u| u.as_str().is_some_and(keep))
                .collect();
            if kept.is_empty() {
                return None;
            }
            Value::Array(kept)
        }
        _ => return None,
    };
    Some(server)
}

/// True for `stun:host:53`, `turn:host:53?transport=udp` and the like.
fn on_port_53(url: &str) -> bool {
    let authority = url.split('?').next().unwrap_or(url);
    authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| port == "53")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::turn::*;

    fn urls(servers: &[IceServer]) -> Vec<Value> {
        servers.iter().map(|s| s.urls.clone()).collect()
    }

    #[test]
    fn answer_as_list_or_single_object() {
        let list = br#"{"iceServers":[{"urls":"stun:a:3478"},
            {"urls":["turn:a:3478"],"username":"u","credential":"c"}]}"#;
        let parsed = parse_answer(list).map_err(|e| e.to_string());
        assert_eq!(parsed.as_ref().map(|s| s.len()), Ok(2));

        let one = br#"{"iceServers":{"urls":["turn:a:3478"],"username":"u","credential":"c"}}"#;
        let parsed = parse_answer(one).map_err(|e| e.to_string());
        assert_eq!(
            parsed.map(|s| (s[0].username.clone(), s[0].credential.clone())),
            Ok((Some("u".into()), Some("c".into())))
        );
    }

    #[test]
    fn port_53_urls_and_empty_entries_are_dropped() {
        let body = br#"{"iceServers":[{"urls":["stun:s:53"]},
            {"urls":["turn:t:53?transport=udp","turn:t:3478?transport=udp","turns:t:443"]}]}"#;
        let parsed = parse_answer(body).map_err(|e| e.to_string());
        assert_eq!(
            parsed.map(|s| urls(&s)),
            Ok(vec![serde_json::json!([
                "turn:t:3478?transport=udp",
                "turns:t:443"
            ])])
        );
    }

    #[test]
    fn malformed_answers_are_errors_that_quote_nothing() {
        let secret = br#"{"iceServers":{"urls":["turn:a"],"username":"u","credential":12345678}}"#;
        for body in [
            &b"not json"[..],
            br#"{"iceServers":[]}"#,
            br#"{"other":1}"#,
            br#"{"iceServers":{"urls":42}}"#,
            secret,
        ] {
            match parse_answer(body) {
                Ok(servers) => panic!("parsed {servers:?}"),
                Err(e) => assert!(!e.to_string().contains("12345678"), "{e}"),
            }
        }
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let config = TurnConfig {
            static_turn: Some(StaticTurn {
                url: "turn:x".into(),
                username: "user".into(),
                credential: "static-secret".into(),
            }),
            cloudflare: Some(CloudflareTurn::new("key-id-secret", "api-token-secret")),
            ..TurnConfig::default()
        };
        let shown = format!("{config:?}");
        for secret in ["static-secret", "key-id-secret", "api-token-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn timings_cannot_spin() {
        let timing = Timing::from(&TurnConfig {
            retry_min: Duration::ZERO,
            retry_max: Duration::ZERO,
            refresh_fraction: 0.0,
            ..TurnConfig::default()
        });
        assert_eq!(timing.retry_min, MIN_RETRY_DELAY);
        assert_eq!(timing.retry_max, MIN_RETRY_DELAY);
        assert_eq!(timing.refresh_fraction, 0.9);
    }
}
