//! `cluster-join`: what routing a join to its session's machine costs. A host creates a session
//! on the first of `--machines` (a running cluster: `bench/cluster.sh` starts one); guests then
//! join one at a time, each timed from connect to `session_joined`, then leave — four ways:
//! straight to that machine; bridged (the Familiar app's bare URL on another machine, which
//! carries the socket to the owner); through the stand-in for Fly's proxy landing on the owner;
//! and through it landing on another machine, which answers `fly-replay` (our guest page's
//! `?code=` URL). The stand-in is the tests' (`tests/common/fly_proxy.rs`), so "replayed" adds
//! to the proxy baseline what our side costs: the wrong machine's answer and one more connect.

#[path = "../../../tests/common/fly_proxy.rs"]
#[allow(dead_code)]
mod fly_proxy;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;

use super::Env;
use crate::cli::ClusterJoinArgs;
use crate::conn::{Conn, Target};
use crate::report::{Latency, Report};
use crate::system::now_ns;

/// Runs `cluster-join`.
pub async fn run(env: &Env, args: &ClusterJoinArgs) -> Result<Report, String> {
    let machines: Vec<(String, SocketAddr)> = args
        .machines
        .iter()
        .filter_map(|entry| {
            let (id, addr) = entry.split_once('=')?;
            Some((id.trim().to_string(), addr.trim().parse().ok()?))
        })
        .collect();
    if machines.len() < 2 {
        return Err("cluster-join needs --machines id=host:port,… with two or more".into());
    }
    let timeout = Duration::from_secs(10);
    let ws = |addr: &SocketAddr, query: &str| format!("ws://{addr}/api/v1/sessions/ws{query}");
    let owner = Target::resolve(&ws(&machines[0].1, ""), 0, timeout).await?;
    let other = Target::resolve(&ws(&machines[1].1, ""), 0, timeout).await?;

    let mut host = owner.connect().await.map_err(|e| e.label())?;
    host.send(json!({"type": "create", "name": "bench", "username": "host"}).to_string())
        .await
        .map_err(|e| e.label())?;
    let created = host.recv().await.map_err(|e| e.label())?;
    let created: serde_json::Value = serde_json::from_str(&created).map_err(|e| e.to_string())?;
    let code = created["session"]["code"]
        .as_str()
        .ok_or("no session code")?
        .to_string();
    // The host reads everything the joins make it hear, so it never counts as a slow reader.
    tokio::spawn(async move { while host.recv().await.is_ok() {} });

    let query = format!("?code={code}");
    let on_owner = fly_proxy::FlyProxy::start_landing(machines.clone(), Some(0));
    let on_other = fly_proxy::FlyProxy::start_landing(machines.clone(), Some(1));
    let via_owner = Target::resolve(&ws(&on_owner.addr, &query), 0, timeout).await?;
    let via_other = Target::resolve(&ws(&on_other.addr, &query), 0, timeout).await?;

    let title = format!(
        "cluster-join: {} joins each way, one at a time, session on {}",
        args.joins, machines[0].0
    );
    let mut report = Report::new("cluster-join", title);
    let mut p50s = Vec::new();
    for (key, label, target) in [
        ("join_direct", "join, straight to the owner", &owner),
        ("join_bridged", "join, bridged from another machine", &other),
        (
            "join_proxy_owner",
            "join, proxy lands on the owner",
            &via_owner,
        ),
        (
            "join_replayed",
            "join, proxy lands elsewhere, replayed",
            &via_other,
        ),
    ] {
        // A few unmeasured joins first: connections and caches warm.
        joins(target, &code, 20).await?;
        let latency = Latency::of(joins(target, &code, args.joins).await?);
        report.latency(key, label, &latency);
        p50s.push((key, latency));
    }
    let extra = |a: &Latency, b: &Latency| {
        format!("{:+.3} ms p50, {:+.3} ms p99", a.p50 - b.p50, a.p99 - b.p99)
    };
    report.fact(
        "bridge_extra",
        json!({"p50_ms": p50s[1].1.p50 - p50s[0].1.p50, "p99_ms": p50s[1].1.p99 - p50s[0].1.p99}),
        "bridged − direct",
        extra(&p50s[1].1, &p50s[0].1),
    );
    report.fact(
        "replay_extra",
        json!({"p50_ms": p50s[3].1.p50 - p50s[2].1.p50, "p99_ms": p50s[3].1.p99 - p50s[2].1.p99}),
        "replayed − proxy on the owner",
        extra(&p50s[3].1, &p50s[2].1),
    );
    report.fact(
        "replays",
        json!(on_other.replays()),
        "replays the stand-in made",
        on_other.replays().to_string(),
    );
    let _ = env;
    Ok(report)
}

/// `n` joins one after another: connect → `join_guest` → `session_joined` (ns each), then
/// `leave` and close.
async fn joins(target: &Target, code: &str, n: usize) -> Result<Vec<u64>, String> {
    let join = json!({"type": "join_guest", "code": code, "guest_name": "bench"}).to_string();
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = now_ns();
        let mut guest: Conn = target.connect().await.map_err(|e| e.label())?;
        guest.send(join.clone()).await.map_err(|e| e.label())?;
        let answer = guest.recv().await.map_err(|e| e.label())?;
        if !answer.as_str().contains("\"session_joined\"") {
            return Err(format!("join refused: {}", answer.as_str()));
        }
        samples.push(now_ns() - started);
        guest
            .send(json!({"type": "leave"}).to_string())
            .await
            .map_err(|e| e.label())?;
        while let Ok(frame) = guest.recv().await {
            if frame.as_str().contains("\"left\"") {
                break;
            }
        }
        guest.close().await;
    }
    Ok(samples)
}
