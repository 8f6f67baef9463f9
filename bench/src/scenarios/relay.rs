//! `relay`: every host sends ICE-sized `webrtc_ice` messages to its guests, round-robin, at a
//! fixed rate; the candidate carries a per-guest `seq` and the send time (`ts`, nanoseconds on
//! the clock all clients in this process share). Guests compute one-way latency; lost is sent −
//! received after a drain.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{check_fd_room, cpu_facts, fill_facts, tally_facts, Env};
use crate::cli::RelayArgs;
use crate::conn::Failure;
use crate::report::{round3, thousands, Latency, Report};
use crate::setup::{self, open_guest, open_host, reached, Ctx, Member, Phase, Tally, TallySum};
use crate::system::{now_ns, CpuMeter};
use crate::wire::IceTemplate;

/// Issue 7: delivered messages per second at 100 sessions × 5 guests.
const TARGET_DELIVERED_PER_SEC: f64 = 50_000.0;

/// Issue 7: one-way latency p99.
const TARGET_P99_MS: f64 = 5.0;

/// What hosts and guests of a relay run share.
struct Shared {
    /// Messages each host sends per second.
    per_host_rate: f64,
    seconds: f64,
    sessions: usize,
    /// Guests per session.
    guests: usize,
    /// Messages sent, added by each host when it stops sending.
    sent: AtomicU64,
    /// Messages received by all guests, counted as they arrive (the drain watches it).
    received: AtomicU64,
    /// Hosts that have stopped sending.
    hosts_done: AtomicUsize,
}

/// What one guest measured.
#[derive(Debug, Default)]
struct GuestReport {
    tally: Tally,
    latencies_ns: Vec<u64>,
    received: u64,
    /// Candidates whose `seq` was below one already seen from the same host.
    out_of_order: u64,
    last_receive_ns: u64,
}

/// Runs `relay`.
pub async fn run(env: &Env, args: &RelayArgs) -> Result<Report, String> {
    let plan = vec![args.guests; args.sessions];
    check_fd_room(env, args.sessions * (args.guests + 1));
    let shared = Arc::new(Shared {
        per_host_rate: args.rate / args.sessions.max(1) as f64,
        seconds: args.seconds,
        sessions: args.sessions,
        guests: args.guests,
        sent: AtomicU64::new(0),
        received: AtomicU64::new(0),
        hosts_done: AtomicUsize::new(0),
    });
    let for_hosts = Arc::clone(&shared);
    let for_guests = Arc::clone(&shared);
    let (fleet, fill) = setup::fill(
        Arc::clone(&env.target),
        args.in_flight,
        0.0,
        &plan,
        move |ctx, session, guests| host(ctx, Arc::clone(&for_hosts), session, guests),
        move |ctx, session, index, code| guest(ctx, Arc::clone(&for_guests), session, index, code),
    )
    .await;

    let run_start = now_ns();
    let meter = CpuMeter::start(env.server_pid);
    fleet.set_phase(Phase::Run);
    tokio::time::sleep(Duration::from_secs_f64(args.seconds.max(0.0))).await;
    let deadline = Instant::now() + env.target.timeout;
    while shared.hosts_done.load(Ordering::Acquire) < fill.sessions_created
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let send_end = now_ns();
    let cpu = meter.read();
    let deadline = Instant::now() + env.target.timeout;
    while shared.received.load(Ordering::Acquire) < shared.sent.load(Ordering::Acquire)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (hosts, guests) = fleet.stop().await;

    let sent = shared.sent.load(Ordering::Acquire);
    let mut sum = TallySum::default();
    for tally in &hosts {
        sum.add(tally);
    }
    let mut received = 0;
    let mut out_of_order = 0;
    let mut last_receive = run_start;
    let mut samples = Vec::with_capacity(sent as usize);
    for guest in guests {
        sum.add(&guest.tally);
        received += guest.received;
        out_of_order += guest.out_of_order;
        last_receive = last_receive.max(guest.last_receive_ns);
        samples.extend(guest.latencies_ns);
    }
    let latency = Latency::of(samples);
    let receive_seconds = last_receive.saturating_sub(run_start) as f64 / 1e9;
    let delivered_per_sec = received as f64 / receive_seconds.max(1e-9);
    let send_seconds = send_end.saturating_sub(run_start) as f64 / 1e9;
    let lost = sent.saturating_sub(received);

    let title = format!(
        "relay: {} sessions × {} guests, {} msgs/s offered for {} s",
        args.sessions, args.guests, args.rate, args.seconds
    );
    let mut report = Report::new("relay", title);
    fill_facts(&mut report, &fill, &plan);
    report.fact("sent", sent, "messages sent", thousands(sent));
    report.fact(
        "sent_per_sec",
        round3(sent as f64 / send_seconds.max(1e-9)),
        "sent msgs/s",
        thousands((sent as f64 / send_seconds.max(1e-9)) as u64),
    );
    report.fact(
        "received",
        received,
        "messages received",
        thousands(received),
    );
    report.target(
        "delivered_per_sec",
        round3(delivered_per_sec),
        "delivered msgs/s",
        thousands(delivered_per_sec as u64),
        &format!("≥ {}", thousands(TARGET_DELIVERED_PER_SEC as u64)),
        delivered_per_sec >= TARGET_DELIVERED_PER_SEC,
    );
    report.target("lost", lost, "lost", thousands(lost), "0", lost == 0);
    report.fact(
        "out_of_order",
        out_of_order,
        "out of order",
        thousands(out_of_order),
    );
    report.target(
        "latency_p99_ms",
        round3(latency.p99),
        "one-way latency p99",
        format!("{:.3} ms", latency.p99),
        &format!("≤ {TARGET_P99_MS} ms"),
        latency.p99 <= TARGET_P99_MS && latency.count > 0,
    );
    report.latency("latency", "one-way latency", &latency);
    tally_facts(&mut report, &sum);
    cpu_facts(&mut report, "cpu_sending", "while sending", &cpu);
    Ok(report)
}

/// A host: learns its guests, waits for the run, sends at its rate, then idles to the end.
async fn host(ctx: Arc<Ctx>, shared: Arc<Shared>, session: usize, guests: usize) -> Tally {
    let Some(mut member) = open_host(&ctx, session).await else {
        return Tally::default();
    };
    let mut sent = 0;
    let sending = async {
        let guests = member.gather_guests(guests).await?;
        member.idle_until(Phase::Run).await?;
        send(&mut member, &shared, session, &guests, &mut sent).await
    }
    .await;
    shared.sent.fetch_add(sent, Ordering::Release);
    shared.hosts_done.fetch_add(1, Ordering::Release);
    let outcome = match sending {
        Ok(()) => member.idle_until(Phase::Stop).await,
        Err(failure) => Err(failure),
    };
    member.finish(outcome).await
}

/// Sends `per_host_rate × seconds` candidates, the i-th at `start + i / rate`, to the guests
/// in turn; reads (and counts) whatever arrives in between. Hosts start staggered over one
/// send interval so they do not all write in the same millisecond.
async fn send(
    member: &mut Member,
    shared: &Shared,
    session: usize,
    guests: &[String],
    sent: &mut u64,
) -> Result<(), Failure> {
    if guests.is_empty() || shared.per_host_rate <= 0.0 {
        return Ok(());
    }
    let rate = shared.per_host_rate;
    let total = (rate * shared.seconds).round() as u64;
    let stagger = session as f64 / shared.sessions.max(1) as f64 / rate;
    let start = Instant::now() + Duration::from_secs_f64(stagger);
    let mut seqs = vec![0u64; guests.len()];
    let templates: Vec<IceTemplate> = guests.iter().map(|g| IceTemplate::new(g)).collect();
    while *sent < total {
        let now = Instant::now();
        let due = if now < start {
            0
        } else {
            (((now - start).as_secs_f64() * rate) as u64 + 1).min(total)
        };
        if due > *sent {
            while *sent < due {
                let k = (*sent % guests.len() as u64) as usize;
                let ice = templates[k].text(seqs[k], now_ns());
                member.conn.feed(ice).await?;
                seqs[k] += 1;
                *sent += 1;
            }
            member.conn.flush().await?;
            continue;
        }
        let next = start + Duration::from_secs_f64(*sent as f64 / rate);
        tokio::select! {
            biased;
            frame = member.conn.recv() => {
                let frame = frame?;
                member.tally.note(&frame);
            }
            () = tokio::time::sleep_until(next) => {}
        }
    }
    Ok(())
}

/// A guest: measures every candidate until the end.
async fn guest(
    ctx: Arc<Ctx>,
    shared: Arc<Shared>,
    session: usize,
    index: usize,
    code: String,
) -> GuestReport {
    let Some(mut member) = open_guest(&ctx, session, index, &code).await else {
        return GuestReport::default();
    };
    let mut report = GuestReport {
        latencies_ns: Vec::with_capacity(
            (shared.per_host_rate * shared.seconds) as usize / shared.guests.max(1) + 16,
        ),
        ..GuestReport::default()
    };
    let outcome = receive(&mut member, &shared, &mut report).await;
    report.tally = member.finish(outcome).await;
    report
}

async fn receive(
    member: &mut Member,
    shared: &Shared,
    report: &mut GuestReport,
) -> Result<(), Failure> {
    let mut next_seq = 0;
    let stop = reached(&mut member.phase, Phase::Stop);
    tokio::pin!(stop);
    loop {
        let frame = tokio::select! {
            biased;
            () = &mut stop => return Ok(()),
            frame = member.conn.recv() => frame?,
        };
        let at = now_ns();
        let Some(msg) = member.tally.note(&frame) else {
            continue;
        };
        if msg.kind != "webrtc_ice" {
            continue;
        }
        report.received += 1;
        report.last_receive_ns = at;
        shared.received.fetch_add(1, Ordering::Release);
        let Some(probe) = msg.candidate else {
            continue;
        };
        if let Some(ts) = probe.ts {
            report.latencies_ns.push(at.saturating_sub(ts));
        }
        if let Some(seq) = probe.seq {
            if seq < next_seq {
                report.out_of_order += 1;
            } else {
                next_seq = seq + 1;
            }
        }
    }
}
