//! The familiar-sessions relay as a library, so tests run the real server in-process.
//!
//! - [`config`]: every setting, from flags or the environment.
//! - [`server`]: assembles the actors and HTTP servers; `run` and graceful shutdown.
//! - [`listener`]: binds the ports with the configured accept backlog.
//! - [`http`]: routes — health, by-code lookup, WebSocket upgrade, guest app, metrics.
//! - [`connection`]: the per-WebSocket actor (transport only).
//! - [`turn`]: the ICE server list, with Cloudflare-minted TURN.
//!
//! The rules of a session live in the `familiar-actors` crate.

pub mod config;
pub mod connection;
pub mod http;
pub mod listener;
pub mod server;
pub mod turn;
