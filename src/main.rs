//! Entry point: parse the configuration, start logging, bind the ports, run until SIGTERM or
//! SIGINT, then drain.

use clap::Parser;
use familiar_sessions::config::Config;
use familiar_sessions::{listener, server};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let config = Config::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    for warning in config.deprecations() {
        log::warn!("{warning}");
    }
    let backlog = config.listen_backlog;
    let public = listener::bind(&config.host, config.port, backlog)?;
    let metrics_listener = match config.metrics_port {
        0 => None,
        port => Some(listener::bind(&config.metrics_host, port, backlog)?),
    };
    server::run(config, public, metrics_listener, shutdown_signal()).await
}

/// Resolves on the first SIGTERM (Fly's kill signal) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => log::info!("SIGTERM: draining"),
                _ = int.recv() => log::info!("SIGINT: draining"),
            }
        }
        _ => {
            // Without signal handlers the process still stops on a signal, just without a drain.
            std::future::pending::<()>().await
        }
    }
}
