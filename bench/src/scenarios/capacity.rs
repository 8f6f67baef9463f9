//! `capacity` and `join-latency`: fill the relay with hosts and guests, hold every socket open
//! until all have joined, read the relay's resident memory, then close everything.
//!
//! Capacity's figure is the relay's memory per socket: (VmRSS after − VmRSS before) / sockets
//! held. Join latency runs from a guest's connect start to its `session_joined`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{check_fd_room, fill_facts, spread, tally_facts, Env};
use crate::cli::{CapacityArgs, JoinLatencyArgs};
use crate::report::{thousands, Report};
use crate::setup::{self, open_guest, open_host, Ctx, Phase, Tally, TallySum};
use crate::system::rss_kib;

/// Issue 7: the relay holds each socket in at most this many KB of resident memory.
const TARGET_KB_PER_SOCKET: f64 = 20.0;

/// Join latency p99 with 1,000 guests joining, 200 in flight, and no one waiting for a SYN
/// retry (issue 13: a link posted to a big group chat; issue 7's 5 ms is Little's law away at
/// this concurrency, see docs/benchmarks.md).
const TARGET_JOIN_P99_MS: f64 = 250.0;

/// Runs `capacity`.
pub async fn capacity(env: &Env, args: &CapacityArgs) -> Result<Report, String> {
    let plan = vec![args.guests; args.sessions];
    let title = format!(
        "capacity: {} sessions × {} guests, {} in flight{}",
        args.sessions,
        args.guests,
        args.in_flight,
        paced(args.join_rate)
    );
    let mut report = Report::new("capacity", title);
    let held = hold(
        env,
        &mut report,
        &plan,
        args.in_flight,
        args.join_rate,
        Duration::from_millis(args.settle_ms),
    )
    .await?;
    let planned = (args.sessions * (args.guests + 1)) as u64;
    report.target(
        "sockets_held",
        held.sockets,
        "sockets held at once",
        thousands(held.sockets as u64),
        &format!("all {}", thousands(planned)),
        held.sockets as u64 == planned,
    );
    match held.memory {
        Some((before, after)) => {
            let per_socket = after.saturating_sub(before) as f64 / held.sockets.max(1) as f64;
            report.fact(
                "server_rss_kib",
                serde_json::json!({ "before": before, "after": after }),
                "relay VmRSS before → after",
                format!("{} → {} KB", thousands(before), thousands(after)),
            );
            report.target(
                "server_kib_per_socket",
                crate::report::round3(per_socket),
                "relay memory per socket",
                format!("{per_socket:.2} KB"),
                &format!("≤ {TARGET_KB_PER_SOCKET} KB"),
                per_socket <= TARGET_KB_PER_SOCKET,
            );
        }
        None => report.target(
            "server_kib_per_socket",
            serde_json::Value::Null,
            "relay memory per socket",
            "not measured (give --server-pid)".to_owned(),
            &format!("≤ {TARGET_KB_PER_SOCKET} KB"),
            false,
        ),
    }
    Ok(report)
}

/// Runs `join-latency`.
pub async fn join_latency(env: &Env, args: &JoinLatencyArgs) -> Result<Report, String> {
    let plan = spread(args.guests, args.sessions);
    let title = format!(
        "join-latency: {} guests over {} sessions, {} in flight{}",
        args.guests,
        args.sessions,
        args.in_flight,
        paced(args.join_rate)
    );
    let mut report = Report::new("join-latency", title);
    let held = hold(
        env,
        &mut report,
        &plan,
        args.in_flight,
        args.join_rate,
        Duration::ZERO,
    )
    .await?;
    report.target(
        "join_p99_ms",
        crate::report::round3(held.join_p99_ms),
        "join latency p99",
        format!("{:.3} ms", held.join_p99_ms),
        &format!("≤ {TARGET_JOIN_P99_MS} ms, no SYN retry"),
        held.join_p99_ms <= TARGET_JOIN_P99_MS
            && held.failures == 0
            && held.waited_for_syn_retry == 0,
    );
    Ok(report)
}

/// The title's note on pacing.
fn paced(join_rate: f64) -> String {
    if join_rate > 0.0 {
        format!(", joins started at {join_rate}/s")
    } else {
        String::new()
    }
}

/// What [`hold`] measured beyond what it put in the report.
struct Held {
    /// Sockets in a session at the moment memory was read.
    sockets: usize,
    /// The relay's VmRSS in KiB before the first connect and after the last join.
    memory: Option<(u64, u64)>,
    join_p99_ms: f64,
    failures: u64,
    /// Creates and joins that waited for a dropped SYN's retry.
    waited_for_syn_retry: usize,
}

/// Fills the relay as `plan` says, waits `settle`, reads memory, closes everything.
async fn hold(
    env: &Env,
    report: &mut Report,
    plan: &[usize],
    in_flight: usize,
    join_rate: f64,
    settle: Duration,
) -> Result<Held, String> {
    let sockets: usize = plan.len() + plan.iter().sum::<usize>();
    check_fd_room(env, sockets);
    let rss = |pid| rss_kib(pid).map_err(|e| format!("cannot read the relay's VmRSS: {e}"));
    let before = env.server_pid.map(rss).transpose()?;

    let (fleet, fill) = setup::fill(
        Arc::clone(&env.target),
        in_flight,
        join_rate,
        plan,
        host_hold,
        guest_hold,
    )
    .await;
    tokio::time::sleep(settle).await;
    let held = fleet.ctx.open.load(Ordering::Relaxed);
    let after = env.server_pid.map(rss).transpose()?;
    let (hosts, guests) = fleet.stop().await;

    let join = fill_facts(report, &fill, plan);
    let mut sum = TallySum::default();
    for tally in hosts.iter().chain(&guests) {
        sum.add(tally);
    }
    tally_facts(report, &sum);
    Ok(Held {
        sockets: held,
        memory: before.zip(after),
        join_p99_ms: join.p99,
        failures: fill.failures.values().sum(),
        waited_for_syn_retry: fill.waited_for_syn_retry(),
    })
}

/// A host that creates its session, hears its guests join, and holds until the end.
async fn host_hold(ctx: Arc<Ctx>, session: usize, guests: usize) -> Tally {
    let Some(mut member) = open_host(&ctx, session).await else {
        return Tally::default();
    };
    let outcome = match member.gather_guests(guests).await {
        Ok(_) => member.idle_until(Phase::Stop).await,
        Err(failure) => Err(failure),
    };
    member.finish(outcome).await
}

/// A guest that joins and holds until the end.
async fn guest_hold(ctx: Arc<Ctx>, session: usize, index: usize, code: String) -> Tally {
    let Some(mut member) = open_guest(&ctx, session, index, &code).await else {
        return Tally::default();
    };
    let outcome = member.idle_until(Phase::Stop).await;
    member.finish(outcome).await
}
