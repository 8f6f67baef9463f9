//! `chat`: every participant (host and guests) sends `chat` at a fixed rate. The text is
//! `<session>:<sender>:<counter>:<send time ns>`, so each receiver checks that it got every
//! chat of its own session exactly once and, per sender, in order, and measures latency.
//! Each sender starts at a random moment within the first interval (seeded, so runs repeat), as
//! people do. An even lattice of start times (the golden-ratio stagger this used before) put
//! every frame to a client ≥ 56 ms after the previous one, longer than a delayed ACK: it could
//! never see Nagle's algorithm hold a small frame back, while people chatting at random moments
//! did (p99 45.7 ms with `TCP_NODELAY` off).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{check_fd_room, cpu_facts, fill_facts, tally_facts, Env};
use crate::cli::ChatArgs;
use crate::conn::Failure;
use crate::report::{round3, thousands, Latency, Report};
use crate::setup::{self, open_guest, open_host, reached, Ctx, Member, Phase, TallySum};
use crate::system::{now_ns, CpuMeter};
use crate::wire::Outbound;

/// Issue 13: chat latency p99 (sender's send → each receiver's receipt), the load generator on
/// the same two cores.
const TARGET_P99_MS: f64 = 5.0;

/// A number in [0, 1) drawn from `seed` and `n` (SplitMix64): each sender's own random start,
/// the same in every run with the same seed.
pub(super) fn unit_random(seed: u64, n: u64) -> f64 {
    let mut z = seed.wrapping_add(n.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// What every participant of a chat run shares.
struct Shared {
    /// Seeds each sender's random start.
    seed: u64,
    /// Chats per second per participant.
    rate: f64,
    seconds: f64,
    /// Participants per session, host included.
    participants: usize,
    /// Chats sent, by session × participants + sender, kept current by each sender.
    sent: Vec<AtomicU64>,
    /// Participants that have sent all their chats.
    senders_done: AtomicUsize,
    /// First receipts of a chat, all receivers together (the drain watches it).
    delivered: AtomicU64,
}

/// One sender's chats as one receiver saw them.
#[derive(Debug, Default)]
struct FromSender {
    /// Which counters arrived.
    seen: Vec<bool>,
    /// The highest counter so far.
    highest: Option<u64>,
    /// Distinct counters received.
    distinct: u64,
}

/// What one participant measured.
#[derive(Debug, Default)]
struct Participant {
    session: usize,
    tally: crate::setup::Tally,
    /// By sender index within the session.
    from: Vec<FromSender>,
    latencies_ns: Vec<u64>,
    duplicated: u64,
    reordered: u64,
    /// Chats from another session, or whose text is not the bench's.
    foreign: u64,
    last_receive_ns: u64,
}

impl Participant {
    /// Takes in one `chat` text received at `at`.
    fn receive(&mut self, text: &str, at: u64, shared: &Shared) {
        let Some((session, sender, counter, sent_at)) = parse_chat(text) else {
            self.foreign += 1;
            return;
        };
        let limit = (shared.rate * shared.seconds) as u64 + 16;
        if session != self.session as u64 || sender >= self.from.len() as u64 || counter > limit {
            self.foreign += 1;
            return;
        }
        let from = &mut self.from[sender as usize];
        let counter_index = counter as usize;
        if counter_index >= from.seen.len() {
            from.seen.resize(counter_index + 1, false);
        }
        if from.seen[counter_index] {
            self.duplicated += 1;
            return;
        }
        from.seen[counter_index] = true;
        from.distinct += 1;
        if from.highest.is_some_and(|highest| counter < highest) {
            self.reordered += 1;
        }
        from.highest = from.highest.max(Some(counter));
        self.latencies_ns.push(at.saturating_sub(sent_at));
        self.last_receive_ns = at;
        shared.delivered.fetch_add(1, Ordering::Release);
    }
}

/// `"s:l:c:t"` → its four numbers.
fn parse_chat(text: &str) -> Option<(u64, u64, u64, u64)> {
    let mut parts = text.split(':').map(|p| p.parse::<u64>().ok());
    let parsed = (
        parts.next()??,
        parts.next()??,
        parts.next()??,
        parts.next()??,
    );
    parts.next().is_none().then_some(parsed)
}

/// Runs `chat`.
pub async fn run(env: &Env, args: &ChatArgs) -> Result<Report, String> {
    let participants = args.participants.max(1);
    let plan = vec![participants - 1; args.sessions];
    check_fd_room(env, args.sessions * participants);
    let shared = Arc::new(Shared {
        seed: args.seed,
        rate: args.rate,
        seconds: args.seconds,
        participants,
        sent: (0..args.sessions * participants)
            .map(|_| AtomicU64::new(0))
            .collect(),
        senders_done: AtomicUsize::new(0),
        delivered: AtomicU64::new(0),
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
    let members: Vec<u64> = (0..args.sessions)
        .map(|s| {
            if fill.created[s] {
                1 + fill.joined_per_session[s] as u64
            } else {
                0
            }
        })
        .collect();
    let senders = members.iter().sum::<u64>() as usize;

    let run_start = now_ns();
    let meter = CpuMeter::start(env.server_pid);
    fleet.set_phase(Phase::Run);
    let interval = if args.rate > 0.0 {
        1.0 / args.rate
    } else {
        0.0
    };
    tokio::time::sleep(Duration::from_secs_f64((args.seconds + interval).max(0.0))).await;
    let deadline = Instant::now() + env.target.timeout;
    while shared.senders_done.load(Ordering::Acquire) < senders && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cpu = meter.read();
    let sent_in = |s: usize| -> u64 {
        shared.sent[s * participants..(s + 1) * participants]
            .iter()
            .map(|n| n.load(Ordering::Acquire))
            .sum()
    };
    let expected: u64 = (0..args.sessions).map(|s| sent_in(s) * members[s]).sum();
    let deadline = Instant::now() + env.target.timeout;
    while shared.delivered.load(Ordering::Acquire) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (hosts, guests) = fleet.stop().await;

    let sent: u64 = (0..args.sessions).map(sent_in).sum();
    let mut sum = TallySum::default();
    let (mut delivered, mut lost, mut duplicated, mut reordered, mut foreign) = (0, 0, 0, 0, 0);
    let mut last_receive = run_start;
    let mut samples = Vec::with_capacity(expected as usize);
    for p in hosts.into_iter().chain(guests).flatten() {
        sum.add(&p.tally);
        for (sender, from) in p.from.iter().enumerate() {
            let sent_by = shared.sent[p.session * participants + sender].load(Ordering::Acquire);
            lost += sent_by.saturating_sub(from.distinct);
            delivered += from.distinct;
        }
        duplicated += p.duplicated;
        reordered += p.reordered;
        foreign += p.foreign;
        last_receive = last_receive.max(p.last_receive_ns);
        samples.extend(p.latencies_ns);
    }
    let latency = Latency::of(samples);
    let seconds = last_receive.saturating_sub(run_start) as f64 / 1e9;
    let per_sec = delivered as f64 / seconds.max(1e-9);

    let title = format!(
        "chat: {} sessions × {} participants, {} chat/s each for {} s",
        args.sessions, participants, args.rate, args.seconds
    );
    let mut report = Report::new("chat", title);
    fill_facts(&mut report, &fill, &plan);
    report.fact("sent", sent, "chats sent", thousands(sent));
    report.fact(
        "deliveries_expected",
        expected,
        "deliveries expected",
        thousands(expected),
    );
    report.fact("delivered", delivered, "delivered", thousands(delivered));
    report.fact(
        "deliveries_per_sec",
        round3(per_sec),
        "deliveries/s",
        thousands(per_sec as u64),
    );
    report.target("lost", lost, "lost", thousands(lost), "0", lost == 0);
    report.target(
        "duplicated",
        duplicated,
        "duplicated",
        thousands(duplicated),
        "0",
        duplicated == 0,
    );
    report.target(
        "reordered",
        reordered,
        "reordered",
        thousands(reordered),
        "0",
        reordered == 0,
    );
    report.target(
        "foreign",
        foreign,
        "from another session / unreadable",
        thousands(foreign),
        "0",
        foreign == 0,
    );
    report.target(
        "latency_p99_ms",
        round3(latency.p99),
        "latency p99",
        format!("{:.3} ms", latency.p99),
        &format!("≤ {TARGET_P99_MS} ms"),
        latency.p99 <= TARGET_P99_MS && latency.count > 0,
    );
    report.latency("latency", "latency", &latency);
    tally_facts(&mut report, &sum);
    cpu_facts(&mut report, "cpu_chatting", "while chatting", &cpu);
    Ok(report)
}

/// The host: participant 0 of its session.
async fn host(
    ctx: Arc<Ctx>,
    shared: Arc<Shared>,
    session: usize,
    guests: usize,
) -> Option<Participant> {
    let mut member = open_host(&ctx, session).await?;
    let mut me = participant(session, &shared);
    let outcome = match member.gather_guests(guests).await {
        Ok(_) => chat(&mut member, &shared, 0, &mut me).await,
        Err(failure) => Err(failure),
    };
    me.tally = member.finish(outcome).await;
    Some(me)
}

/// Guest `index`: participant `index + 1` of its session.
async fn guest(
    ctx: Arc<Ctx>,
    shared: Arc<Shared>,
    session: usize,
    index: usize,
    code: String,
) -> Option<Participant> {
    let mut member = open_guest(&ctx, session, index, &code).await?;
    let mut me = participant(session, &shared);
    let outcome = chat(&mut member, &shared, index + 1, &mut me).await;
    me.tally = member.finish(outcome).await;
    Some(me)
}

fn participant(session: usize, shared: &Shared) -> Participant {
    Participant {
        session,
        from: (0..shared.participants)
            .map(|_| FromSender::default())
            .collect(),
        latencies_ns: Vec::with_capacity(
            (shared.rate * shared.seconds) as usize * shared.participants + 16,
        ),
        ..Participant::default()
    }
}

/// Waits for the run, then chats `rate × seconds` times while taking in everyone's chats,
/// until the controller stops the run.
async fn chat(
    member: &mut Member,
    shared: &Shared,
    sender: usize,
    me: &mut Participant,
) -> Result<(), Failure> {
    member.idle_until(Phase::Run).await?;
    let global = member.session * shared.participants + sender;
    let total = (shared.rate * shared.seconds).round() as u64;
    let interval = if shared.rate > 0.0 {
        1.0 / shared.rate
    } else {
        0.0
    };
    let offset = unit_random(shared.seed, global as u64) * interval;
    let start = Instant::now() + Duration::from_secs_f64(offset);
    let mut sent = 0u64;
    let mut done = false;
    if total == 0 {
        done = true;
        shared.senders_done.fetch_add(1, Ordering::Release);
    }
    let stop = reached(&mut member.phase, Phase::Stop);
    tokio::pin!(stop);
    loop {
        let next = start + Duration::from_secs_f64(sent as f64 * interval);
        tokio::select! {
            biased;
            () = &mut stop => return Ok(()),
            frame = member.conn.recv() => {
                let frame = frame?;
                let at = now_ns();
                if let Some(msg) = member.tally.note(&frame) {
                    if msg.kind == "chat" {
                        me.receive(msg.message.as_deref().unwrap_or(""), at, shared);
                    }
                }
            }
            () = tokio::time::sleep_until(next), if !done => {
                let text = format!("{}:{}:{}:{}", member.session, sender, sent, now_ns());
                // With an id, as our pages send chat: the relay pays for looking it up.
                let id = format!("c{sent}");
                member.conn.send(Outbound::Chat { message: &text, id: Some(&id) }.text()).await?;
                sent += 1;
                shared.sent[global].store(sent, Ordering::Release);
                if sent == total {
                    done = true;
                    shared.senders_done.fetch_add(1, Ordering::Release);
                }
            }
        }
    }
}
