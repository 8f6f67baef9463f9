//! The ICE server list every member gets in `session_created` / `session_joined`: STUN, a static
//! TURN server, and Cloudflare Realtime TURN credentials minted over HTTPS, all additive and each
//! optional. Owns the Cloudflare mint (awc), its per-process cache, the background refresh at
//! 90 % of the TTL with capped exponential backoff on failure, and the short wait the very first
//! join after start may make for the first mint.
//!
//! The session actors read the list through [`IceServerSource`] (`current()` is a pointer copy);
//! the connection layer calls [`TurnService::ready`] before a create or join; the binary builds
//! a [`TurnConfig`] from the environment and calls [`start`] inside the actix system.
//!
//! Credentials and the API token never reach a log line or an error message: only counts, TTLs
//! and error classes are logged.

use std::fmt;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use familiar_actors::ice::{has_turn_url, IceServerSource};
use familiar_actors::metrics::Metrics;
use familiar_actors::protocol::IceServer;
use serde_json::Value;
use tokio::sync::watch;

mod mint;

use mint::{http_client, mint, MintError};

/// Google's public STUN servers: the list used when `STUN_URLS` is not set.
pub const DEFAULT_STUN_URLS: [&str; 2] = [
    "stun:stun.l.google.com:19302",
    "stun:stun1.l.google.com:19302",
];

/// Where the Cloudflare Realtime API lives unless `CLOUDFLARE_TURN_API_BASE` says otherwise
/// (tests point it at loopback).
pub const DEFAULT_CLOUDFLARE_API_BASE: &str = "https://rtc.live.cloudflare.com";

/// Lifetime asked of Cloudflare for each minted credential: a day, so a refresh at 90 % leaves
/// 2.4 h of validity to ride out an API outage.
pub const DEFAULT_TTL_SECS: u64 = 86_400;

/// The shortest refresh interval, whatever the TTL: a TTL of 0 or 1 s must not turn the refresh
/// loop into a flood.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// The shortest retry delay, whatever the configuration, for the same reason.
const MIN_RETRY_DELAY: Duration = Duration::from_millis(50);

/// Largest mint answer read. Real answers are about 1 KiB; anything bigger is not Cloudflare.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A TURN server with long-lived credentials (`TURN_SERVER_URL`, `TURN_SERVER_USERNAME`,
/// `TURN_SERVER_CREDENTIAL`), e.g. a coturn the operator runs.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticTurn {
    /// `turn:` or `turns:` URL handed to browsers as is.
    pub url: String,
    /// TURN username; left out of the ICE server entry when empty.
    pub username: String,
    /// TURN password; left out of the ICE server entry when empty.
    pub credential: String,
}

/// Redacts the credential, so a `{:?}` of the configuration is safe to log.
impl fmt::Debug for StaticTurn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTurn")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("credential", &"<redacted>")
            .finish()
    }
}

/// Cloudflare Realtime TURN (`CLOUDFLARE_TURN_TOKEN_ID`, `CLOUDFLARE_TURN_API_TOKEN`,
/// `CLOUDFLARE_TURN_API_BASE`): short-lived credentials minted by this process.
#[derive(Clone, PartialEq, Eq)]
pub struct CloudflareTurn {
    /// The TURN key id; part of the mint URL's path.
    pub token_id: String,
    /// The TURN key's API token, sent as the bearer token. A long-lived secret.
    pub api_token: String,
    /// Scheme and host of the API, without a trailing path (a trailing `/` is tolerated).
    pub api_base: String,
    /// Lifetime requested for each credential; the refresh happens at `refresh_fraction` of it.
    pub ttl_secs: u64,
}

impl CloudflareTurn {
    /// A TURN key with the production API base and a one-day TTL.
    pub fn new(token_id: impl Into<String>, api_token: impl Into<String>) -> Self {
        CloudflareTurn {
            token_id: token_id.into(),
            api_token: api_token.into(),
            api_base: DEFAULT_CLOUDFLARE_API_BASE.to_owned(),
            ttl_secs: DEFAULT_TTL_SECS,
        }
    }
}

/// Redacts the token id and API token, so a `{:?}` of the configuration is safe to log.
impl fmt::Debug for CloudflareTurn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudflareTurn")
            .field("token_id", &"<redacted>")
            .field("api_token", &"<redacted>")
            .field("api_base", &self.api_base)
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

/// Everything the ICE server list is built from. Plain data: the binary's configuration fills it
/// from the environment; tests build it directly with short timings.
#[derive(Debug, Clone)]
pub struct TurnConfig {
    /// STUN URLs, one ICE server entry each (`STUN_URLS`; empty means no STUN at all).
    pub stun_urls: Vec<String>,
    /// A TURN server with fixed credentials, if any.
    pub static_turn: Option<StaticTurn>,
    /// Cloudflare-minted TURN, if any.
    pub cloudflare: Option<CloudflareTurn>,
    /// The longest the first join after start waits for the first Cloudflare mint, counted from
    /// `start`: long enough for a healthy mint, short enough that a user barely notices.
    pub first_mint_wait: Duration,
    /// The whole budget of one mint request: connect, TLS, answer and body.
    pub request_timeout: Duration,
    /// Delay before the first retry after a failed mint; doubled after each further failure.
    pub retry_min: Duration,
    /// Cap on the retry delay, so an outage costs Cloudflare one request per `retry_max`.
    pub retry_max: Duration,
    /// Fraction of the TTL after which credentials are refreshed (0.9: at 90 %).
    pub refresh_fraction: f64,
}

impl Default for TurnConfig {
    /// Google STUN only, with the production timings.
    fn default() -> Self {
        TurnConfig {
            stun_urls: DEFAULT_STUN_URLS.iter().map(|u| (*u).to_owned()).collect(),
            static_turn: None,
            cloudflare: None,
            first_mint_wait: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            retry_min: Duration::from_secs(5),
            retry_max: Duration::from_secs(300),
            refresh_fraction: 0.9,
        }
    }
}

/// The list handed out now, and whether it has TURN in it; replaced whole, never edited.
#[derive(Clone)]
struct Snapshot {
    servers: Arc<Vec<IceServer>>,
    turn: bool,
}

/// The process's ICE server source. Shared as `Arc<TurnService>`; every method is cheap and
/// callable from any thread.
pub struct TurnService {
    /// STUN and static TURN entries, fixed at start; Cloudflare's are appended to them.
    fixed: Vec<IceServer>,
    /// What `current()` returns. A std lock is enough: readers hold it for a pointer copy.
    snapshot: RwLock<Snapshot>,
    /// True once joins no longer wait: Cloudflare is not configured, the first mint finished
    /// (either way), or `first_mint_deadline` passed.
    gate: watch::Sender<bool>,
    /// `start` + `first_mint_wait`: no join ever waits past this.
    first_mint_deadline: Instant,
    metrics: Arc<Metrics>,
}

/// Builds the service and, when Cloudflare is configured, starts its refresh loop on the current
/// actix arbiter (awc's client is tied to one thread). The first mint starts at once.
///
/// # Panics
///
/// When Cloudflare is configured and this is called outside an actix system (`actix_rt::spawn`
/// needs one). The binary calls it from its `actix_web::main`.
pub fn start(config: TurnConfig, metrics: Arc<Metrics>) -> Arc<TurnService> {
    let fixed = fixed_servers(&config);
    let service = Arc::new(TurnService {
        snapshot: RwLock::new(snapshot_of(fixed.clone())),
        fixed,
        gate: watch::Sender::new(config.cloudflare.is_none()),
        first_mint_deadline: Instant::now() + config.first_mint_wait,
        metrics,
    });
    match config.cloudflare.clone() {
        Some(cloudflare) => {
            log::info!(
                "Cloudflare TURN configured (ttl {}s); minting the first credentials",
                cloudflare.ttl_secs
            );
            let timing = Timing::from(&config);
            actix_rt::spawn(refresh_loop(Arc::downgrade(&service), cloudflare, timing));
        }
        None => log::info!("Cloudflare TURN not configured"),
    }
    service
}

impl TurnService {
    /// Waits, only while Cloudflare's first mint since start is still out, until it finishes or
    /// `first_mint_wait` after start has passed; otherwise returns at once. Call before
    /// `current()` on create and join, so the first member after a deploy gets TURN too.
    pub async fn ready(&self) {
        if *self.gate.borrow() {
            return;
        }
        let mut open = self.gate.subscribe();
        let deadline = tokio::time::Instant::from_std(self.first_mint_deadline);
        // An error means the deadline passed (the sender lives in `self`, so it cannot close):
        // open the gate so later joins skip even this check.
        if tokio::time::timeout_at(deadline, open.wait_for(|open| *open))
            .await
            .is_err()
        {
            self.open_gate();
        }
    }

    /// Lets every current and future `ready()` through.
    fn open_gate(&self) {
        self.gate
            .send_if_modified(|open| !std::mem::replace(open, true));
    }

    /// Replaces the Cloudflare part of the list (`None`: no Cloudflare servers).
    fn set_cloudflare(&self, minted: Option<Vec<IceServer>>) {
        let mut servers = self.fixed.clone();
        servers.extend(minted.unwrap_or_default());
        let snapshot = snapshot_of(servers);
        // A poisoned lock still holds a whole snapshot (writers only assign): carry on.
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = snapshot;
    }

    fn snapshot(&self) -> Snapshot {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl IceServerSource for TurnService {
    fn current(&self) -> Arc<Vec<IceServer>> {
        self.snapshot().servers
    }

    /// True when the list handed out now has a `turn:`/`turns:` URL: static TURN, or Cloudflare
    /// credentials that were minted and have not expired.
    fn turn_available(&self) -> bool {
        self.snapshot().turn
    }
}

fn snapshot_of(servers: Vec<IceServer>) -> Snapshot {
    Snapshot {
        turn: servers.iter().any(has_turn_url),
        servers: Arc::new(servers),
    }
}

/// STUN entries (one per URL) followed by the static TURN entry.
fn fixed_servers(config: &TurnConfig) -> Vec<IceServer> {
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let stun = config.stun_urls.iter().map(|url| IceServer {
        urls: Value::String(url.clone()),
        username: None,
        credential: None,
    });
    let turn = config.static_turn.iter().map(|t| IceServer {
        urls: Value::String(t.url.clone()),
        username: non_empty(&t.username),
        credential: non_empty(&t.credential),
    });
    stun.chain(turn).collect()
}

/// The refresh loop's timings, normalised so no configuration can make it spin.
#[derive(Debug, Clone, Copy)]
struct Timing {
    request_timeout: Duration,
    retry_min: Duration,
    retry_max: Duration,
    refresh_fraction: f64,
}

impl From<&TurnConfig> for Timing {
    fn from(config: &TurnConfig) -> Self {
        let retry_min = config.retry_min.max(MIN_RETRY_DELAY);
        let fraction = config.refresh_fraction;
        Timing {
            request_timeout: config.request_timeout,
            retry_min,
            retry_max: config.retry_max.max(retry_min),
            refresh_fraction: if fraction > 0.0 && fraction <= 1.0 {
                fraction
            } else {
                0.9
            },
        }
    }
}

/// Mints, caches, refreshes at `refresh_fraction` of the TTL, and backs off on failure. The only
/// task that ever calls Cloudflare, so refreshes cannot overlap: however many joins arrive, there
/// is at most one request in flight. Holds the service weakly and ends once it is dropped.
async fn refresh_loop(service: Weak<TurnService>, cloudflare: CloudflareTurn, timing: Timing) {
    let client = http_client(timing.request_timeout);
    let url = format!(
        "{}/v1/turn/keys/{}/credentials/generate-ice-servers",
        cloudflare.api_base.trim_end_matches('/'),
        cloudflare.token_id
    );
    let ttl = Duration::from_secs(cloudflare.ttl_secs);
    let refresh_after = ttl
        .mul_f64(timing.refresh_fraction)
        .max(MIN_REFRESH_INTERVAL);
    let mut retry_delay = timing.retry_min;
    // When the credentials being served stop working.
    let mut expires_at: Option<Instant> = None;

    while service.strong_count() > 0 {
        let started = Instant::now();
        let outcome = actix_rt::time::timeout(
            timing.request_timeout,
            mint(&client, &url, &cloudflare.api_token, cloudflare.ttl_secs),
        )
        .await
        .unwrap_or(Err(MintError::Timeout));
        let Some(svc) = service.upgrade() else { return };
        svc.metrics
            .turn_mint_seconds
            .observe(started.elapsed().as_secs_f64());

        let next_attempt = match outcome {
            Ok(servers) => {
                Metrics::inc(&svc.metrics.turn_mints, "outcome", "ok");
                log::info!(
                    "Cloudflare TURN credentials minted: {} ICE servers, ttl {}s, refresh in {}s",
                    servers.len(),
                    cloudflare.ttl_secs,
                    refresh_after.as_secs_f64()
                );
                svc.set_cloudflare(Some(servers));
                expires_at = Some(started + ttl);
                retry_delay = timing.retry_min;
                started + refresh_after
            }
            Err(error) => {
                Metrics::inc(&svc.metrics.turn_mints, "outcome", "error");
                let serving = match expires_at {
                    Some(at) => format!(
                        "serving the last good credentials ({}s of validity left)",
                        at.saturating_duration_since(Instant::now()).as_secs()
                    ),
                    None => "serving STUN/static TURN only".to_owned(),
                };
                log::warn!(
                    "Cloudflare TURN mint failed: {error}; retrying in {}s; {serving}",
                    retry_delay.as_secs_f64()
                );
                let next = Instant::now() + retry_delay;
                retry_delay = (retry_delay * 2).min(timing.retry_max);
                next
            }
        };
        svc.open_gate();
        // Not held while sleeping, so dropping the service ends the loop.
        drop(svc);

        if let Some(at) = expires_at.filter(|at| *at <= next_attempt) {
            actix_rt::time::sleep_until(at.into()).await;
            expires_at = None;
            let Some(svc) = service.upgrade() else { return };
            svc.set_cloudflare(None);
            log::warn!(
                "Cloudflare TURN credentials expired before a refresh succeeded; \
                 serving STUN/static TURN only until one does"
            );
        }
        actix_rt::time::sleep_until(next_attempt.into()).await;
    }
}
