//! The scenarios, and what every report says about the run's setting: the relay's URL, the
//! open-file limits of both processes, how the relay filled up.

mod capacity;
mod chaos;
mod chat;
mod cluster;
mod handshake;
mod relay;

use std::sync::Arc;
use std::time::Duration;

use crate::cli::{Cli, Scenario};
use crate::conn::Target;
use crate::report::{counts, thousands, Latency, Report};
use crate::setup::{Fill, TallySum};
use crate::system::{self, CpuMeter, CpuUse, FdLimit};

/// What every scenario gets from the command line and the machine.
pub struct Env {
    pub target: Arc<Target>,
    pub server_pid: Option<u32>,
    pub client_fd: FdLimit,
}

/// Runs the scenario `cli` names and returns its report.
///
/// Errors: the URL is unusable, or the relay's memory was asked for and cannot be read.
pub async fn run(cli: Cli, client_fd: FdLimit) -> Result<Report, String> {
    let common = cli.common;
    let target = Target::resolve(
        &common.url,
        common.source_addrs,
        Duration::from_secs(common.timeout),
    )
    .await?;
    let env = Env {
        target: Arc::new(target),
        server_pid: common.server_pid,
        client_fd,
    };
    let load_before = system::load_average();
    let meter = CpuMeter::start(env.server_pid);
    let mut report = match cli.scenario {
        Scenario::Capacity(args) => capacity::capacity(&env, &args).await?,
        Scenario::JoinLatency(args) => capacity::join_latency(&env, &args).await?,
        Scenario::Handshake(args) => handshake::run(&env, &args).await?,
        Scenario::Relay(args) => relay::run(&env, &args).await?,
        Scenario::Chat(args) => chat::run(&env, &args).await?,
        Scenario::Chaos(args) => chaos::run(&env, &args).await?,
        Scenario::ClusterJoin(args) => cluster::run(&env, &args).await?,
    };
    cpu_facts(&mut report, "cpu_whole_run", "whole run", &meter.read());
    let load_after = system::load_average();
    report.fact(
        "load_average",
        serde_json::json!({ "before": load_before, "after": load_after }),
        "load average before → after",
        format!(
            "{} → {}",
            load_before.as_deref().unwrap_or("?"),
            load_after.as_deref().unwrap_or("?")
        ),
    );
    setting(&mut report, &env);
    Ok(report)
}

/// CPU the relay and the bench used over `cpu`'s stretch, in cores (1.0 = one core busy).
fn cpu_facts(report: &mut Report, key: &str, stretch: &str, cpu: &CpuUse) {
    let cores = |c: Option<f64>| c.map_or("?".to_owned(), |c| format!("{c:.2}"));
    report.fact(
        key,
        serde_json::json!({
            "wall_s": crate::report::round3(cpu.wall_seconds),
            "relay_cores": cpu.relay_cores.map(crate::report::round3),
            "bench_cores": cpu.bench_cores.map(crate::report::round3),
            "other_cores": cpu.other_cores.map(crate::report::round3),
        }),
        &format!("CPU cores, {stretch}: relay / bench / others"),
        format!(
            "{} / {} / {} over {:.1} s",
            cores(cpu.relay_cores),
            cores(cpu.bench_cores),
            cores(cpu.other_cores),
            cpu.wall_seconds
        ),
    );
}

/// The run's setting, at the end of the table.
fn setting(report: &mut Report, env: &Env) {
    report.fact(
        "url",
        env.target.url.as_str(),
        "relay",
        env.target.url.clone(),
    );
    report.fact(
        "source_addrs",
        env.target.source_count(),
        "client source addresses",
        match env.target.source_count() {
            0 => "kernel's choice".to_owned(),
            n => format!("{n} (127.0.0.2 …)"),
        },
    );
    report.fact(
        "client_fd_limit",
        serde_json::json!({ "soft": env.client_fd.soft, "hard": env.client_fd.hard }),
        "open files, bench (soft/hard)",
        format!("{} / {}", env.client_fd.soft, env.client_fd.hard),
    );
    if let Some(limit) = env.server_pid.and_then(system::fd_limit_of) {
        report.fact(
            "server_fd_limit",
            serde_json::json!({ "soft": limit.soft, "hard": limit.hard }),
            "open files, relay (soft/hard)",
            format!("{} / {}", limit.soft, limit.hard),
        );
    }
}

/// Warns on stderr when this process cannot open `sockets` sockets.
fn check_fd_room(env: &Env, sockets: usize) {
    let needed = sockets as u64 + 64;
    if env.client_fd.soft < needed {
        eprintln!(
            "familiar-bench: warning: {sockets} sockets need about {needed} open files; the limit \
             is {} (hard {}) — expect connect failures",
            env.client_fd.soft, env.client_fd.hard
        );
    }
}

/// How the relay filled: counts, failures, create and join latency.
fn fill_facts(report: &mut Report, fill: &Fill, plan: &[usize]) -> Latency {
    let planned_guests: usize = plan.iter().sum();
    report.fact(
        "sessions_created",
        fill.sessions_created,
        "sessions created",
        format!(
            "{} of {}",
            thousands(fill.sessions_created as u64),
            thousands(plan.len() as u64)
        ),
    );
    report.fact(
        "guests_joined",
        fill.guests_joined,
        "guests joined",
        format!(
            "{} of {}",
            thousands(fill.guests_joined as u64),
            thousands(planned_guests as u64)
        ),
    );
    report.fact(
        "join_failures",
        serde_json::to_value(&fill.failures).unwrap_or_default(),
        "create/join failures",
        counts(&fill.failures),
    );
    report.fact(
        "fill_seconds",
        crate::report::round3(fill.elapsed.as_secs_f64()),
        "time to fill",
        format!("{:.2} s", fill.elapsed.as_secs_f64()),
    );
    p50_p99_fact(report, "create_latency", "create latency", &fill.create_ns);
    let join = p50_p99_fact(report, "join_latency", "join latency", &fill.join_ns);
    let waited = fill.waited_for_syn_retry();
    report.fact(
        "waited_for_syn_retry",
        waited,
        "creates/joins over 0.9 s (SYN retry)",
        format!(
            "{waited}; kernel dropped {} SYNs for a full accept queue",
            fill.listen_drops.map_or_else(|| "?".to_owned(), thousands),
        ),
    );
    report.fact("listen_drops", fill.listen_drops, "", String::new());
    p50_p99_fact(
        report,
        "join_answer_latency",
        "  of which join sent → session_joined",
        &fill.join_answer_ns,
    );
    report.fact(
        "hosts_heard_all_guests",
        fill.hosts_ready,
        "hosts that heard every guest_joined",
        format!("{} of {}", fill.hosts_ready, fill.hosts_expected_ready),
    );
    join
}

/// One row "LABEL p50 / p99" of the samples (nanoseconds); the JSON gets every percentile.
fn p50_p99_fact(report: &mut Report, key: &str, label: &str, samples_ns: &[u64]) -> Latency {
    let latency = Latency::of(samples_ns.to_vec());
    report.fact(
        key,
        latency.json(),
        &format!("{label} p50 / p99"),
        format!("{:.3} / {:.3} ms", latency.p50, latency.p99),
    );
    latency
}

/// What clients received besides the scenario's own traffic: errors, unreadable frames, drops.
fn tally_facts(report: &mut Report, sum: &TallySum) {
    report.fact(
        "frames_received",
        sum.frames,
        "frames received (not counting replies to create/join)",
        thousands(sum.frames),
    );
    report.fact(
        "frames_by_type",
        serde_json::to_value(&sum.kinds).unwrap_or_default(),
        "  by type",
        counts(&sum.kinds),
    );
    report.fact(
        "error_frames",
        serde_json::to_value(&sum.errors).unwrap_or_default(),
        "error frames received",
        counts(&sum.errors),
    );
    report.fact(
        "unreadable_frames",
        sum.unparsed,
        "unreadable frames",
        thousands(sum.unparsed),
    );
    report.fact(
        "dropped_sockets",
        serde_json::to_value(&sum.dropped).unwrap_or_default(),
        "sockets dropped before the end",
        counts(&sum.dropped),
    );
}

/// `total` guests spread over `sessions` as evenly as possible.
fn spread(total: usize, sessions: usize) -> Vec<usize> {
    let sessions = sessions.max(1);
    (0..sessions)
        .map(|s| total / sessions + usize::from(s < total % sessions))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn spreads_evenly() {
        assert_eq!(spread(1000, 50), vec![20; 50]);
        assert_eq!(spread(7, 3), vec![3, 2, 2]);
        assert_eq!(spread(0, 2), vec![0, 0]);
    }
}
