//! Integration tests of `familiar_sessions::turn`: the ICE server list (STUN + static TURN +
//! Cloudflare-minted TURN) and the Cloudflare mint, refresh and backoff, against a real actix-web
//! server on loopback standing in for the Cloudflare Realtime API. Timing is driven by short TTLs
//! and retry delays in `TurnConfig`; tests wait on conditions with a deadline, never on sleeps.

use std::error::Error;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use familiar_actors::ice::IceServerSource;
use familiar_actors::metrics::Metrics;
use familiar_actors::protocol::IceServer;
use familiar_sessions::turn::{self, CloudflareTurn, StaticTurn, TurnConfig, TurnService};
use serde_json::{json, Value};

type TestResult = Result<(), Box<dyn Error>>;

/// How long any condition may take to come true before a test fails; generous, as builds of
/// other crates share the machine.
const DEADLINE: Duration = Duration::from_secs(15);

const TOKEN_ID: &str = "key-0123456789abcdef";
const API_TOKEN: &str = "api-token-must-not-leak";
const STUN: &str = "stun:stun.test:3478";

/// What the fake Cloudflare answers.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// 201 with `iceServers` as a list (the current API).
    List,
    /// 201 with `iceServers` as one object (older answers).
    Single,
    /// This status with a JSON error body.
    Status(u16),
    /// 201 with a body that is not JSON.
    Malformed,
    /// Never answers.
    Hang,
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    method: String,
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

struct FakeState {
    behaviour: Behaviour,
    /// Added before answering, so concurrent joins overlap with one request in flight.
    delay: Duration,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<FakeState>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, FakeState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The stand-in for `rtc.live.cloudflare.com`: any path, recorded; minted usernames count up
/// (`user-1`, `user-2`, …) so a refresh is visible.
struct FakeCloudflare {
    state: Shared,
    base: String,
    handle: ServerHandle,
}

impl FakeCloudflare {
    async fn start(behaviour: Behaviour) -> Result<Self, Box<dyn Error>> {
        let state: Shared = Arc::new(Mutex::new(FakeState {
            behaviour,
            delay: Duration::ZERO,
            seen: Vec::new(),
        }));
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(fake_answer))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))?;
        let addr = server
            .addrs()
            .first()
            .copied()
            .ok_or("fake bound no address")?;
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Ok(FakeCloudflare {
            state,
            base: format!("http://{addr}"),
            handle,
        })
    }

    fn set(&self, behaviour: Behaviour) {
        lock(&self.state).behaviour = behaviour;
    }

    fn set_delay(&self, delay: Duration) {
        lock(&self.state).delay = delay;
    }

    fn count(&self) -> usize {
        lock(&self.state).seen.len()
    }

    fn seen(&self) -> Vec<Seen> {
        lock(&self.state).seen.clone()
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn fake_answer(req: HttpRequest, body: web::Bytes, state: web::Data<Shared>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (behaviour, delay, n) = {
        let mut s = lock(&state);
        s.seen.push(Seen {
            at: Instant::now(),
            method: req.method().to_string(),
            path: req.path().to_owned(),
            authorization: header("authorization"),
            content_type: header("content-type"),
            body: body.to_vec(),
        });
        (s.behaviour, s.delay, s.seen.len())
    };
    if !delay.is_zero() {
        actix_rt::time::sleep(delay).await;
    }
    let turn = json!({
        "urls": [
            "turn:turn.cloudflare.com:3478?transport=udp",
            "turn:turn.cloudflare.com:53?transport=udp",
            "turns:turn.cloudflare.com:443?transport=tcp"
        ],
        "username": format!("user-{n}"),
        "credential": format!("cred-{n}")
    });
    match behaviour {
        Behaviour::List => HttpResponse::Created().json(json!({ "iceServers": [
            { "urls": ["stun:stun.cloudflare.com:3478", "stun:stun.cloudflare.com:53"] },
            turn
        ]})),
        Behaviour::Single => HttpResponse::Created().json(json!({ "iceServers": turn })),
        Behaviour::Status(code) => {
            let status = actix_web::http::StatusCode::from_u16(code)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
            HttpResponse::build(status).json(json!({ "success": false, "errors": ["nope"] }))
        }
        Behaviour::Malformed => HttpResponse::Created()
            .content_type("application/json")
            .body(r#"{"iceServers": [{"urls": "turn:x", "username": "#),
        Behaviour::Hang => std::future::pending::<HttpResponse>().await,
    }
}

/// STUN plus Cloudflare pointed at `fake`, with test timings: retries from 100 ms up to 400 ms.
fn config_for(fake: &FakeCloudflare) -> TurnConfig {
    TurnConfig {
        stun_urls: vec![STUN.to_owned()],
        static_turn: None,
        cloudflare: Some(CloudflareTurn {
            token_id: TOKEN_ID.to_owned(),
            api_token: API_TOKEN.to_owned(),
            api_base: fake.base.clone(),
            ttl_secs: 86_400,
        }),
        first_mint_wait: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry_min: Duration::from_millis(100),
        retry_max: Duration::from_millis(400),
        refresh_fraction: 0.9,
    }
}

/// The setup every Cloudflare test shares: the fake answering as told, and a TURN service pointed
/// at it (started, its first mint under way) with its own metrics.
struct Fixture {
    fake: FakeCloudflare,
    metrics: Arc<Metrics>,
    service: Arc<TurnService>,
}

impl Fixture {
    /// The fake answering `behaviour`, and a service on [`config_for`] as `adjust` changes it.
    async fn start(
        behaviour: Behaviour,
        adjust: impl FnOnce(&mut TurnConfig),
    ) -> Result<Self, Box<dyn Error>> {
        let fake = FakeCloudflare::start(behaviour).await?;
        let mut config = config_for(&fake);
        adjust(&mut config);
        let metrics = Arc::new(Metrics::new());
        let service = turn::start(config, metrics.clone());
        Ok(Fixture {
            fake,
            metrics,
            service,
        })
    }

    /// Like [`Fixture::start`] with only the Cloudflare settings changed.
    async fn with_cloudflare(
        behaviour: Behaviour,
        adjust: impl FnOnce(&mut CloudflareTurn),
    ) -> Result<Self, Box<dyn Error>> {
        Fixture::start(behaviour, |config| {
            if let Some(cloudflare) = config.cloudflare.as_mut() {
                adjust(cloudflare);
            }
        })
        .await
    }

    /// A started fixture with a 2 s credential TTL (the refresh is due at 1.8 s, so refresh and
    /// expiry happen within a test), its first mint checked as served.
    async fn short_ttl(behaviour: Behaviour) -> Result<Self, Box<dyn Error>> {
        let fixture =
            Fixture::with_cloudflare(behaviour, |cloudflare| cloudflare.ttl_secs = 2).await?;
        fixture.service.ready().await;
        assert_eq!(minted_users(&fixture.service), vec!["user-1"]);
        Ok(fixture)
    }
}

fn static_turn() -> StaticTurn {
    StaticTurn {
        url: "turn:turn.example.org:3478".to_owned(),
        username: "static-user".to_owned(),
        credential: "static-cred".to_owned(),
    }
}

fn stun_entry(url: &str) -> IceServer {
    IceServer {
        urls: Value::String(url.to_owned()),
        username: None,
        credential: None,
    }
}

fn static_entry() -> IceServer {
    IceServer {
        urls: json!("turn:turn.example.org:3478"),
        username: Some("static-user".to_owned()),
        credential: Some("static-cred".to_owned()),
    }
}

/// The Cloudflare TURN entry the fake mints for request `n`, with its port-53 URL filtered out.
fn cloudflare_turn_entry(n: usize) -> IceServer {
    IceServer {
        urls: json!([
            "turn:turn.cloudflare.com:3478?transport=udp",
            "turns:turn.cloudflare.com:443?transport=tcp"
        ]),
        username: Some(format!("user-{n}")),
        credential: Some(format!("cred-{n}")),
    }
}

fn cloudflare_stun_entry() -> IceServer {
    IceServer {
        urls: json!(["stun:stun.cloudflare.com:3478"]),
        username: None,
        credential: None,
    }
}

/// The usernames of Cloudflare entries served now (`user-N`).
fn minted_users(service: &TurnService) -> Vec<String> {
    service
        .current()
        .iter()
        .filter_map(|s| s.username.clone())
        .filter(|u| u.starts_with("user-"))
        .collect()
}

fn mints(metrics: &Metrics, outcome: &'static str) -> u64 {
    metrics
        .turn_mints
        .get_or_create(&[("outcome", outcome)])
        .get()
}

fn mint_latencies_recorded(metrics: &Metrics) -> u64 {
    let text = metrics.encode();
    text.lines()
        .find_map(|l| l.strip_prefix("familiar_turn_mint_seconds_count "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Polls `condition` until it holds, failing after `DEADLINE`.
async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) -> TestResult {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Collects every log line of the relay's own code in this test binary, so a test can check that no secret is logged.
struct CapturingLogger {
    lines: Mutex<Vec<String>>,
}

impl log::Log for CapturingLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("familiar_sessions")
    }
    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }
    fn flush(&self) {}
}

fn logger() -> &'static CapturingLogger {
    static LOGGER: OnceLock<CapturingLogger> = OnceLock::new();
    static INSTALLED: OnceLock<()> = OnceLock::new();
    let logger = LOGGER.get_or_init(|| CapturingLogger {
        lines: Mutex::new(Vec::new()),
    });
    INSTALLED.get_or_init(|| {
        if log::set_logger(logger).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    });
    logger
}

fn logged() -> Vec<String> {
    logger()
        .lines
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

#[actix_rt::test]
async fn list_answer_is_served_after_the_first_mint() -> TestResult {
    logger();
    let Fixture {
        fake,
        metrics,
        service,
    } = Fixture::start(Behaviour::List, |_| {}).await?;

    service.ready().await;

    assert_eq!(
        *service.current(),
        vec![
            stun_entry(STUN),
            cloudflare_stun_entry(),
            cloudflare_turn_entry(1)
        ]
    );
    assert!(service.turn_available());
    assert_eq!(mints(&metrics, "ok"), 1);
    assert_eq!(mints(&metrics, "error"), 0);
    assert_eq!(mint_latencies_recorded(&metrics), 1);
    assert_eq!(fake.count(), 1);
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn single_object_answer_is_served() -> TestResult {
    let Fixture {
        fake,
        metrics,
        service,
    } = Fixture::start(Behaviour::Single, |_| {}).await?;

    service.ready().await;

    assert_eq!(
        *service.current(),
        vec![stun_entry(STUN), cloudflare_turn_entry(1)]
    );
    assert!(service.turn_available());
    assert_eq!(mints(&metrics, "ok"), 1);
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn mint_request_carries_bearer_token_and_ttl() -> TestResult {
    let Fixture {
        fake,
        metrics: _,
        service,
    } = Fixture::with_cloudflare(Behaviour::List, |cloudflare| {
        // A trailing slash on the base must not double up in the path.
        cloudflare.api_base.push('/');
        cloudflare.ttl_secs = 86_400;
    })
    .await?;

    service.ready().await;

    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!("/v1/turn/keys/{TOKEN_ID}/credentials/generate-ice-servers")
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some("Bearer api-token-must-not-leak")
    );
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    let body: Value = serde_json::from_slice(&request.body)?;
    assert_eq!(body, json!({ "ttl": 86_400 }));
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn unauthorized_serves_stun_only() -> TestResult {
    logger();
    for status in [401, 403] {
        let Fixture {
            fake,
            metrics,
            service,
        } = Fixture::start(Behaviour::Status(status), |_| {}).await?;

        service.ready().await;

        assert_eq!(*service.current(), vec![stun_entry(STUN)]);
        assert!(!service.turn_available());
        assert_eq!(mints(&metrics, "error"), 1);
        assert_eq!(mints(&metrics, "ok"), 0);
        assert_eq!(mint_latencies_recorded(&metrics), 1);
        fake.stop().await;
    }
    Ok(())
}

#[actix_rt::test]
async fn server_error_serves_stun_and_static_turn() -> TestResult {
    let Fixture {
        fake,
        metrics,
        service,
    } = Fixture::start(Behaviour::Status(500), |config| {
        config.static_turn = Some(static_turn());
    })
    .await?;

    service.ready().await;

    assert_eq!(*service.current(), vec![stun_entry(STUN), static_entry()]);
    assert!(service.turn_available(), "static TURN is still there");
    assert_eq!(mints(&metrics, "error"), 1);
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn malformed_json_is_a_failed_mint() -> TestResult {
    logger();
    let Fixture {
        fake,
        metrics,
        service,
    } = Fixture::start(Behaviour::Malformed, |_| {}).await?;

    service.ready().await;

    assert_eq!(*service.current(), vec![stun_entry(STUN)]);
    assert!(!service.turn_available());
    assert_eq!(mints(&metrics, "error"), 1);
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn failed_mints_retry_with_capped_exponential_backoff() -> TestResult {
    let Fixture {
        fake,
        metrics,
        service: _service,
    } = Fixture::start(Behaviour::Status(500), |_| {}).await?;

    wait_for("six attempts", || fake.count() >= 6).await?;

    // Each retry waits at least its delay after the previous answer: 100, 200, 400, then the
    // 400 ms cap. Arrival gaps can only be longer than that, never shorter.
    let seen = fake.seen();
    let gaps: Vec<Duration> = seen.windows(2).map(|w| w[1].at - w[0].at).collect();
    let floors = [100, 200, 400, 400, 400].map(Duration::from_millis);
    for (gap, floor) in gaps.iter().zip(floors) {
        assert!(*gap >= floor, "gaps {gaps:?}");
    }
    // The cap holds: the last gaps stay near 400 ms rather than doubling to 800 and 1600.
    assert!(gaps[4] < Duration::from_secs(5), "gaps {gaps:?}");
    assert!(mints(&metrics, "error") >= 6);
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn hanging_server_delays_only_the_first_join_and_at_most_first_mint_wait() -> TestResult {
    let Fixture {
        fake,
        metrics,
        service,
    } = Fixture::start(Behaviour::Hang, |config| {
        config.static_turn = Some(static_turn());
        config.request_timeout = Duration::from_secs(30);
    })
    .await?;

    let started = Instant::now();
    service.ready().await;
    let first = started.elapsed();
    assert!(
        first < Duration::from_secs(5),
        "first ready() took {first:?}"
    );
    assert_eq!(*service.current(), vec![stun_entry(STUN), static_entry()]);
    assert!(service.turn_available());

    // The mint is still out, but the wait is spent: later joins do not wait.
    let started = Instant::now();
    service.ready().await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(fake.count(), 1);
    assert_eq!(mints(&metrics, "ok") + mints(&metrics, "error"), 0);
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn hanging_server_times_out_and_retries() -> TestResult {
    let Fixture {
        fake,
        metrics,
        service,
    } = Fixture::start(Behaviour::Hang, |config| {
        config.request_timeout = Duration::from_millis(300);
    })
    .await?;

    service.ready().await;
    wait_for("a retry after the timeout", || {
        fake.count() >= 2 && mints(&metrics, "error") >= 1
    })
    .await?;

    assert_eq!(*service.current(), vec![stun_entry(STUN)]);
    assert!(!service.turn_available());
    assert_eq!(mints(&metrics, "ok"), 0);
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn outage_after_a_good_mint_keeps_serving_the_last_good_credentials() -> TestResult {
    // Refresh after 1 s, but the credentials stay valid for 60 s: the outage falls in between.
    let Fixture {
        fake,
        metrics,
        service,
    } = Fixture::start(Behaviour::List, |config| {
        if let Some(cloudflare) = config.cloudflare.as_mut() {
            cloudflare.ttl_secs = 60;
        }
        config.refresh_fraction = 1.0 / 60.0;
    })
    .await?;

    service.ready().await;
    assert_eq!(minted_users(&service), vec!["user-1"]);
    fake.set(Behaviour::Status(503));

    wait_for("two failed refreshes", || mints(&metrics, "error") >= 2).await?;
    assert_eq!(minted_users(&service), vec!["user-1"]);
    assert!(service.turn_available());

    // Cloudflare comes back: the next retry mints fresh credentials.
    fake.set(Behaviour::List);
    wait_for("fresh credentials after the outage", || {
        minted_users(&service)
            .first()
            .is_some_and(|u| u != "user-1")
    })
    .await?;
    assert_eq!(mints(&metrics, "ok"), 2);
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn short_ttl_refreshes_and_serves_new_credentials() -> TestResult {
    let Fixture {
        fake,
        metrics,
        service,
    } = Fixture::short_ttl(Behaviour::List).await?;

    wait_for("the refreshed credentials", || {
        minted_users(&service) == vec!["user-2"]
    })
    .await?;
    assert!(service.turn_available());
    assert!(mints(&metrics, "ok") >= 2);
    assert_eq!(mints(&metrics, "error"), 0);
    // One refresh per TTL, not a stream of them.
    assert!(fake.count() <= 3, "{} requests", fake.count());
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn expired_credentials_are_withdrawn_during_an_outage() -> TestResult {
    let Fixture {
        fake,
        metrics,
        service,
    } = Fixture::short_ttl(Behaviour::List).await?;
    fake.set(Behaviour::Status(500));

    wait_for("the expired credentials to go", || {
        minted_users(&service).is_empty()
    })
    .await?;
    assert_eq!(*service.current(), vec![stun_entry(STUN)]);
    assert!(!service.turn_available());
    assert!(mints(&metrics, "error") >= 1);
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn many_concurrent_first_joins_make_one_mint_request() -> TestResult {
    let fake = FakeCloudflare::start(Behaviour::List).await?;
    // The answer takes a while, so every join arrives while the one mint is in flight.
    fake.set_delay(Duration::from_millis(300));
    let metrics = Arc::new(Metrics::new());
    let service = turn::start(config_for(&fake), metrics.clone());

    let joins = (0..64).map(|_| {
        let service = service.clone();
        async move {
            service.ready().await;
            service.current()
        }
    });
    let lists = futures_util::future::join_all(joins).await;

    // And from other threads, as the session actors read it.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let service = service.clone();
            std::thread::spawn(move || service.current())
        })
        .collect();
    for thread in threads {
        let list = thread.join().map_err(|_| "reader thread panicked")?;
        assert!(list.contains(&cloudflare_turn_entry(1)));
    }

    for list in &lists {
        assert!(list.contains(&cloudflare_turn_entry(1)), "{list:?}");
    }
    assert_eq!(fake.count(), 1);
    assert_eq!(mints(&metrics, "ok"), 1);
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn static_and_cloudflare_add_up() -> TestResult {
    let Fixture {
        fake,
        metrics: _,
        service,
    } = Fixture::start(Behaviour::List, |config| {
        config.static_turn = Some(static_turn());
    })
    .await?;

    service.ready().await;

    assert_eq!(
        *service.current(),
        vec![
            stun_entry(STUN),
            static_entry(),
            cloudflare_stun_entry(),
            cloudflare_turn_entry(1)
        ]
    );
    assert!(service.turn_available());
    fake.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn neither_configured_serves_stun_only() {
    let service = turn::start(TurnConfig::default(), Arc::new(Metrics::new()));

    service.ready().await;

    assert_eq!(
        *service.current(),
        turn::DEFAULT_STUN_URLS.map(stun_entry).to_vec()
    );
    assert!(!service.turn_available());
}

#[actix_rt::test]
async fn empty_stun_list_and_nothing_else_is_an_empty_list() {
    let config = TurnConfig {
        stun_urls: Vec::new(),
        ..TurnConfig::default()
    };
    let service = turn::start(config, Arc::new(Metrics::new()));

    service.ready().await;

    assert!(service.current().is_empty());
    assert!(!service.turn_available());
}

#[actix_rt::test]
async fn static_turn_alone_is_turn_available() {
    let config = TurnConfig {
        static_turn: Some(static_turn()),
        ..TurnConfig::default()
    };
    let service = turn::start(config, Arc::new(Metrics::new()));

    service.ready().await;

    assert_eq!(service.current().len(), 3);
    assert!(service.current().contains(&static_entry()));
    assert!(service.turn_available());
}

#[actix_rt::test]
async fn https_base_speaks_tls() -> TestResult {
    // A bare TCP listener: if the client is set up for TLS, its first byte is a TLS handshake
    // record (0x16); without TLS support awc would refuse https:// before connecting.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let first_byte: Arc<Mutex<Option<u8>>> = Arc::new(Mutex::new(None));
    let recorded = first_byte.clone();
    std::thread::spawn(move || {
        if let Ok((mut socket, _)) = listener.accept() {
            let mut byte = [0u8; 1];
            if socket.read_exact(&mut byte).is_ok() {
                *recorded.lock().unwrap_or_else(|e| e.into_inner()) = Some(byte[0]);
            }
        }
    });
    let metrics = Arc::new(Metrics::new());
    let config = TurnConfig {
        cloudflare: Some(CloudflareTurn {
            api_base: format!("https://127.0.0.1:{port}"),
            ..CloudflareTurn::new(TOKEN_ID, API_TOKEN)
        }),
        ..TurnConfig::default()
    };
    let _service = turn::start(config, metrics.clone());

    let read = || *first_byte.lock().unwrap_or_else(|e| e.into_inner());
    wait_for("the client's first byte", || read().is_some()).await?;
    assert_eq!(read(), Some(0x16));
    // The listener hangs up: the mint fails without a certificate, and that is counted.
    wait_for("the failed mint", || mints(&metrics, "error") >= 1).await?;
    Ok(())
}

#[actix_rt::test]
async fn logs_report_outcomes_but_never_secrets() -> TestResult {
    logger();
    let Fixture {
        fake,
        metrics,
        service,
    } = Fixture::start(Behaviour::List, |config| {
        config.static_turn = Some(static_turn());
    })
    .await?;
    service.ready().await;
    fake.set(Behaviour::Status(401));
    drop(service);
    let service = turn::start(config_for(&fake), metrics.clone());
    service.ready().await;
    fake.set(Behaviour::Malformed);
    let service = turn::start(config_for(&fake), metrics.clone());
    service.ready().await;

    let lines = logged();
    assert!(lines.iter().any(|l| l.contains("minted")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("HTTP 401")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("malformed")), "{lines:#?}");
    for line in &lines {
        for secret in [API_TOKEN, TOKEN_ID, "cred-", "user-", "static-cred"] {
            assert!(!line.contains(secret), "{secret:?} logged: {line}");
        }
    }
    fake.stop().await;
    Ok(())
}
