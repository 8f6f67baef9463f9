//! The familiar-sessions relay as a library, so tests run the real server in-process.
//!
//! - [`config`]: every setting, from flags or the environment.
//! - [`server`]: assembles the actors and HTTP servers; `run` and graceful shutdown.
//! - [`listener`]: binds the ports with the configured accept backlog.
//! - [`http`]: routes — health, by-code lookup, WebSocket upgrade, guest app, metrics.
//! - [`state`]: what every handler and connection shares ([`state::AppState`]).
//! - [`address_sockets`]: the open sockets per client address, capped at the upgrade.
//! - [`connection`]: the per-WebSocket actor (transport only) and its write side.
//! - [`drain`]: the restart notice and the open sockets it goes to.
//! - [`rate`]: the per-connection rate classes and token buckets.
//! - [`turn`]: the ICE server list, with Cloudflare-minted TURN.
//! - [`cluster`]: several machines as one service: code tags, peers, where a session lives.
//!
//! The rules of a session live in the `familiar-actors` crate.

pub mod address_sockets;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod drain;
pub mod http;
pub mod listener;
pub mod rate;
pub mod server;
pub mod state;
pub mod turn;
