//! The integration suites again, every test against a cluster: each server of theirs is three
//! relay machines with a static peer list behind the stand-in for Fly's proxy
//! (`common::fly_proxy`), and every client lands on a random machine. Our guest-page helper
//! names its code in the URL and is replayed to the owner before the upgrade; every other
//! client opens the bare URL and says `create`/`join` in its first frame, as the Familiar app
//! does, and is bridged to the owner when it lands elsewhere. `common::cluster_mode` sees this
//! binary's name and switches the harness.
//!
//! Left out, each for a reason of its own: `metrics` (counters are per machine), `resume` and
//! `turn` (they restart or inspect one process; machine loss has its own test in `cluster.rs`),
//! `sockets` (it inspects the relay's own socket, not the proxy's), `smoke` (the binary).
//! Five `limits` tests of per-machine limits (the session cap, the failed-join throttle) run
//! against one relay here (`common::per_machine`).

// Each suite brings its own `mod common;`, so the harness is compiled once per suite: that is
// what lets the suites run here unchanged.
#![allow(clippy::duplicate_mod)]

#[path = "binary.rs"]
mod binary;
#[path = "capabilities.rs"]
mod capabilities;
#[path = "golden.rs"]
mod golden;
#[path = "http_routes.rs"]
mod http_routes;
#[path = "lifecycle.rs"]
mod lifecycle;
#[path = "limits.rs"]
mod limits;
#[path = "membership.rs"]
mod membership;
#[path = "playback.rs"]
mod playback;
#[path = "room.rs"]
mod room;
#[path = "signaling.rs"]
mod signaling;
