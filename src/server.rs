//! Assembles and runs the relay: the shared state ([`AppState`]), the registry (and any dedicated session
//! arbiters), the public HTTP server, the private metrics server, and the graceful shutdown that
//! tells every open socket `server_restarting` before it closes.
//!
//! `run` takes its listeners and its shutdown trigger as parameters (as mini-redis does), so
//! tests run the real server on `127.0.0.1:0` and drive shutdown themselves.

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpServer};
use familiar_actors::core::Core;
use familiar_actors::ice::IceServerSource;
use familiar_actors::metrics::Metrics;
use familiar_actors::protocol::ServerMessage;
use familiar_actors::registry::{Registry, ShutdownAll};
use familiar_actors::token::TokenSigner;

use crate::cluster;
use crate::config::Config;
use crate::drain::RestartNotice;
use crate::http;
use crate::listener;
use crate::state::AppState;
use crate::turn;

/// How many reconnects a second the relay asks for after a restart: what it took back after a
/// crash, when 2,500 clients returned within 250 ms and every one was in within 0.9 s (the chaos
/// benchmark, docs/benchmarks.md); above the ~8,000 bare handshakes a second one 2-vCPU machine
/// serves, since resumes arrive spread and each costs little more than a handshake.
const RECONNECTS_PER_SEC: u64 = 10_000;

/// The shortest spread worth asking for: a few sockets still should not arrive in one instant.
const MIN_RETRY_JITTER_MS: u64 = 250;

/// The shortest spread for the hosts' window.
const MIN_HOST_JITTER_MS: u64 = 100;

/// The `server_restarting` frames for `hosts` hosts among `sockets` open sockets: hosts come back
/// after `retry_after_ms`, spread over as long as the relay needs to take them back; everyone
/// else after the hosts' window, spread likewise.
fn restart_notice(retry_after_ms: u64, sockets: u64, hosts: u64) -> RestartNotice {
    let spread = |n: u64, min: u64| (n * 1000 / RECONNECTS_PER_SEC).max(min);
    let hosts_window = spread(hosts, MIN_HOST_JITTER_MS);
    let frame = |retry_after_ms, retry_jitter_ms| {
        ServerMessage::ServerRestarting {
            retry_after_ms,
            retry_jitter_ms: Some(retry_jitter_ms),
        }
        .to_text()
    };
    RestartNotice {
        host: frame(retry_after_ms, hosts_window),
        others: frame(
            retry_after_ms + hosts_window,
            spread(sockets.saturating_sub(hosts), MIN_RETRY_JITTER_MS),
        ),
    }
}

fn thread_count(configured: usize) -> usize {
    if configured > 0 {
        configured
    } else {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    }
}

/// Runs the relay on `listener` (and `/metrics` on `metrics_listener`) until `shutdown`
/// resolves, then drains: it stops accepting, every open socket hears `server_restarting` and
/// closes with 1012, and the function returns once they are closed or the drain time is up.
///
/// Must be called inside an actix system. Errors are I/O errors from starting the servers.
pub async fn run(
    config: Config,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let metrics = Arc::new(Metrics::new());
    let turn = turn::start(config.turn(), metrics.clone());
    let tokens = match config.session_secret.as_deref().filter(|s| !s.is_empty()) {
        Some(secret) => TokenSigner::new(secret.as_bytes()),
        None => {
            log::warn!(
                "SESSION_SECRET is not set: resume works across dropped sockets, not restarts"
            );
            TokenSigner::random()
        }
    };
    let core = Arc::new(Core {
        limits: config.limits(),
        ice: turn.clone() as Arc<dyn IceServerSource>,
        metrics,
        tokens,
    });
    // No dedicated arbiters (the default): sessions run beside their host's connection.
    let arbiters: Vec<Arbiter> = (0..config.session_threads)
        .map(|_| Arbiter::new())
        .collect();
    let registry = Registry::new(core.clone(), arbiters.iter().map(Arbiter::handle).collect());
    let (registry, cluster) = cluster::assemble(&config, &core, registry)?;
    let state = Arc::new(AppState {
        rates: config.rates(),
        config,
        core,
        registry: registry.clone(),
        turn,
        open_sockets: Default::default(),
        sockets: Default::default(),
        cluster,
    });

    // A peer that takes nothing for the idle timeout is gone, at the TCP level too.
    listener::abort_unread_after(&listener, state.config.idle_timeout());
    let app_state = state.clone();
    let static_dir = state.config.static_dir.clone();
    let clustered = state.cluster.is_some();
    let public = HttpServer::new(move || {
        let static_dir = static_dir.clone();
        App::new()
            .app_data(web::Data::new(app_state.clone()))
            .wrap(
                DefaultHeaders::new()
                    .add(("Referrer-Policy", "no-referrer"))
                    .add(("X-Content-Type-Options", "nosniff")),
            )
            .configure(move |cfg| {
                if clustered {
                    cluster::endpoints::routes(cfg);
                }
            })
            .configure(move |cfg| http::routes(cfg, &static_dir))
    })
    .workers(thread_count(state.config.workers))
    .disable_signals()
    .shutdown_timeout(1)
    .max_connections(50_000)
    // Small frames (chat, reactions, a first ICE candidate after a pause) must not wait for the
    // peer's delayed ACK under Nagle's algorithm: up to 40 ms each.
    .tcp_nodelay(true)
    .listen(listener)?
    .run();
    let public_handle = public.handle();
    log::info!("listening on port {}", state.config.port);

    let metrics_server = match metrics_listener {
        Some(listener) => {
            let metrics_state = state.clone();
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(metrics_state.clone()))
                    .route("/metrics", web::get().to(http::metrics))
            })
            .workers(1)
            .tcp_nodelay(true)
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener)?
            .run();
            Some(server)
        }
        None => None,
    };
    let metrics_handle = metrics_server.as_ref().map(|s| s.handle());
    if let Some(server) = metrics_server {
        actix_rt::spawn(server);
    }

    let mut public_task = actix_rt::spawn(public);
    tokio::select! {
        _ = shutdown => {}
        result = &mut public_task => {
            return result.unwrap_or(Ok(()));
        }
    }

    let started = Instant::now();
    // Sessions stop first, silently (their members stay in the hosts' tokens), so that no one
    // hears `user_away` from a member whose socket closed for the restart; from then on every
    // create, join and resume is answered by the restart notice, not by an error.
    let hosts = state.core.metrics.sessions_live.get().max(0) as u64;
    let sessions = registry.send(ShutdownAll).await.unwrap_or(0);
    // Then every socket is told, at once: clients count the hint from the notice (a socket
    // accepted after this is told as it starts).
    let sockets = state.core.metrics.sockets_live.get().max(0) as u64;
    let notice = restart_notice(state.config.restart_retry_after_ms, sockets, hosts);
    state.open_sockets.tell_all(notice);
    // No new connections from here on: they would only be told to go away.
    public_handle.pause().await;
    let drain = Duration::from_millis(state.config.shutdown_drain_ms);
    // Sockets close as clients answer the close frames; exit as soon as the last one has.
    while state.core.metrics.sockets_live.get() > 0 && started.elapsed() < drain {
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
    log::info!(
        "shutdown: {sockets} sockets told, {sessions} sessions stopped, {} still open after {} ms",
        state.core.metrics.sockets_live.get(),
        started.elapsed().as_millis()
    );
    // Not a graceful stop: every WebSocket has finished its close handshake, and the client is
    // waiting for us to end the TCP connection (RFC 6455 §7.1.1; a browser fires `close` only
    // then), which actix would otherwise do after its ~1 s disconnect linger.
    public_handle.stop(false).await;
    if let Some(handle) = metrics_handle {
        handle.stop(false).await;
    }
    let _ = public_task.await;
    for arbiter in arbiters {
        arbiter.stop();
    }
    Ok(())
}
