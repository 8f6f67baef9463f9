//! `chaos`: sessions of resumable clients (as our guest and host pages behave) chat while the
//! relay is killed and restarted, and the run counts what came back and what was lost.
//!
//! The bench owns the relay here: it starts `--relay-bin` on the URL's port with a fixed
//! `SESSION_SECRET`, and at evenly spaced moments sends it SIGKILL or SIGTERM (alternating,
//! starting and ending with SIGKILL), waits for it to exit and starts it again at once.
//!
//! Each client does what `guest/src/protocol/client.ts` does: it declares `resume`, keeps its
//! resume token and the highest `seq` it saw, reconnects after `server_restarting`'s
//! `retry_after_ms` plus a random part of its `retry_jitter_ms` (else after a doubling backoff
//! from 500 ms), sends `resume {token, last_seq}`, retries `host_not_back` after the hint. Every
//! chat carries an id; a chat not yet seen echoed is re-sent with it after each resume; the
//! last 200 chat frames are kept as received and handed back in `history` when a welcome asks;
//! a frame whose `seq`, or whose (sender, id), it already has is dropped. Every chat is
//! `<session>:<sender>:<counter>:<send ns>`, so each receiver counts per chat how often it
//! arrived: once, never (lost) or more (doubled). A chat counts as sent when its frame was
//! first written on a socket that was in the session.

use std::collections::{HashSet, VecDeque};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Env;
use crate::cli::ChaosArgs;
use crate::conn::{Conn, Failure};
use crate::report::{thousands, Latency, Report};
use crate::system::{now_ns, rss_kib};
use crate::wire::{self, Outbound};

const CAPABILITIES: &[&str] = &["resume"];

/// Issue 18's targets: every session back, nothing lost or doubled.
const TARGET_LOST: u64 = 0;

/// One outage the controller caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Kill,
    Term,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Kill => "SIGKILL",
            Signal::Term => "SIGTERM",
        }
    }
}

/// What the clients share with the controller.
struct Shared {
    target: Arc<crate::conn::Target>,
    sessions: usize,
    /// Participants per session, host included.
    participants: usize,
    /// Chats each participant sends, one per interval.
    per_sender: u64,
    interval: Duration,
    seed: u64,
    /// When chatting starts (every client's schedule counts from it); `None` until everyone is in.
    start: watch::Sender<Option<Instant>>,
    /// Each session's code, once its host has created it.
    codes: Vec<OnceLock<String>>,
    /// Clients that joined for the first time.
    entered: AtomicUsize,
    /// Set once the run is over: clients stop chatting and reconnecting.
    stopping: AtomicBool,
    /// The same, for clients waiting in `select!`.
    stop: watch::Sender<bool>,
    /// Chats whose moment came while the sender was not in the session.
    not_sent: AtomicU64,
    /// When each outage began (ns on the bench clock), in order.
    outages: Mutex<Vec<(Signal, u64)>>,
    /// Welcomes after an outage: (outage index, ns since it began, was a host).
    returns: Mutex<Vec<(usize, u64, bool)>>,
    /// Replayed frames dropped by `seq`, as our page drops them.
    seq_repeats: AtomicU64,
    /// Frames dropped by (sender, id): a re-sent chat relayed again after a restart.
    id_repeats: AtomicU64,
    /// Chats re-sent after a resume because their echo had not come back.
    resent: AtomicU64,
    /// `history` frames sent, and the entries in them.
    histories: AtomicU64,
    history_entries: AtomicU64,
    /// Refusals by label (e.g. `error:host_not_back`), over all attempts.
    refusals: Mutex<std::collections::BTreeMap<String, u64>>,
}

/// What one client counted about the chats it received, and which of its own it sent.
struct Received {
    session: usize,
    slot: usize,
    /// sent[counter]: this client's chat `counter` was written while it was in the session.
    sent: Vec<bool>,
    /// receipts[sender slot][counter]: how often that chat arrived (after `seq` dedup).
    receipts: Vec<Vec<u8>>,
}

/// Runs `chaos`.
pub async fn run(env: &Env, args: &ChaosArgs) -> Result<Report, String> {
    let participants = args.guests + 1;
    let clients = args.sessions * participants;
    super::check_fd_room(env, clients);
    let per_sender = (args.rate * args.seconds).floor() as u64;
    let shared = Arc::new(Shared {
        target: Arc::clone(&env.target),
        sessions: args.sessions,
        participants,
        per_sender,
        interval: Duration::from_secs_f64(1.0 / args.rate.max(0.001)),
        seed: args.seed,
        start: watch::channel(None).0,
        codes: (0..args.sessions).map(|_| OnceLock::new()).collect(),
        entered: AtomicUsize::new(0),
        stopping: AtomicBool::new(false),
        stop: watch::channel(false).0,
        not_sent: AtomicU64::new(0),
        outages: Mutex::new(Vec::new()),
        returns: Mutex::new(Vec::new()),
        seq_repeats: AtomicU64::new(0),
        id_repeats: AtomicU64::new(0),
        resent: AtomicU64::new(0),
        histories: AtomicU64::new(0),
        history_entries: AtomicU64::new(0),
        refusals: Mutex::new(Default::default()),
    });
    let mut relay = RelayProcess::start(args, env.target.addr.port())?;
    relay.wait_healthy(&env.target).await?;
    let memory_start = relay.rss();

    let mut tasks = JoinSet::new();
    for session in 0..args.sessions {
        for slot in 0..participants {
            tasks.spawn_on(
                client(Arc::clone(&shared), session, slot),
                &crate::system::next_client_runtime(),
            );
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while shared.entered.load(Ordering::Acquire) < clients && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let entered = shared.entered.load(Ordering::Acquire);
    let start = Instant::now() + Duration::from_millis(500);
    shared.start.send_replace(Some(start));
    tokio::time::sleep_until(start).await;

    // Outages evenly spaced over the run: SIGKILL, SIGTERM, SIGKILL, … with `kills` and `terms`.
    let plan = outage_plan(args.kills, args.terms);
    let run_for = Duration::from_secs_f64(args.seconds);
    let mut memory_before_outages = Vec::new();
    let mut restart_ms = Vec::new();
    for (i, signal) in plan.iter().enumerate() {
        let at = start + run_for.mul_f64((i + 1) as f64 / (plan.len() + 1) as f64);
        tokio::time::sleep_until(at).await;
        memory_before_outages.push(relay.rss());
        shared
            .outages
            .lock()
            .map_err(|_| "outage log poisoned")?
            .push((*signal, now_ns()));
        let began = Instant::now();
        relay.stop(*signal).await?;
        let exited = began.elapsed();
        relay = RelayProcess::start(args, env.target.addr.port())?;
        relay.wait_healthy(&env.target).await?;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        restart_ms.push((ms(exited), ms(began.elapsed())));
    }
    tokio::time::sleep_until(start + run_for).await;
    // Let the last chats and any replay arrive.
    tokio::time::sleep(Duration::from_secs(args.drain_secs)).await;
    let memory_end = relay.rss();
    shared.stopping.store(true, Ordering::Release);
    shared.stop.send_replace(true);
    let mut received = Vec::new();
    while let Some(result) = tasks.join_next().await {
        if let Ok(r) = result {
            received.push(r);
        }
    }
    relay.stop(Signal::Term).await?;

    let title = format!(
        "chaos: {} sessions × {} guests, {}/s each for {} s, {} SIGKILL + {} SIGTERM",
        args.sessions, args.guests, args.rate, args.seconds, args.kills, args.terms
    );
    let mut report = Report::new("chaos", title);
    report.fact(
        "entered",
        entered,
        "clients in before the run",
        format!(
            "{} of {}",
            thousands(entered as u64),
            thousands(clients as u64)
        ),
    );
    delivery_facts(&mut report, &shared, &received);
    recovery_facts(&mut report, &shared, &plan, &restart_ms)?;
    report.fact(
        "relay_rss_kib",
        serde_json::json!({
            "start": memory_start,
            "before_outages": memory_before_outages,
            "end": memory_end,
        }),
        "relay memory: start / before each outage / end",
        format!(
            "{} / {} / {} KiB",
            memory_start.map_or("?".into(), |k| k.to_string()),
            memory_before_outages
                .iter()
                .map(|m| m.map_or("?".into(), |k: u64| k.to_string()))
                .collect::<Vec<_>>()
                .join(", "),
            memory_end.map_or("?".into(), |k| k.to_string())
        ),
    );
    let refusals = shared
        .refusals
        .lock()
        .map_err(|_| "refusal log poisoned")?
        .clone();
    report.fact(
        "refusals",
        serde_json::to_value(&refusals).unwrap_or_default(),
        "refusals (all attempts)",
        crate::report::counts(&refusals),
    );
    Ok(report)
}

/// `kills` SIGKILLs and `terms` SIGTERMs, alternating as long as both last, starting with a
/// SIGKILL.
fn outage_plan(kills: usize, terms: usize) -> Vec<Signal> {
    let (mut k, mut t) = (kills, terms);
    let mut plan = Vec::with_capacity(kills + terms);
    while k + t > 0 {
        let kill_next = k > 0 && (t == 0 || plan.last() != Some(&Signal::Kill));
        if kill_next {
            k -= 1;
            plan.push(Signal::Kill);
        } else {
            t -= 1;
            plan.push(Signal::Term);
        }
    }
    plan
}

/// Sent, delivered exactly once, lost and doubled, over every (chat, member of its session).
fn delivery_facts(report: &mut Report, shared: &Shared, received: &[Received]) {
    let mut sent_by: Vec<&[bool]> = vec![&[]; shared.sessions * shared.participants];
    for r in received {
        sent_by[r.session * shared.participants + r.slot] = &r.sent;
    }
    let (mut once, mut lost, mut doubled) = (0u64, 0u64, 0u64);
    for r in received {
        for (slot, counts) in r.receipts.iter().enumerate() {
            let sent = sent_by[r.session * shared.participants + slot];
            let sent_counts = counts.iter().zip(sent).filter(|(_, sent)| **sent);
            for (&n, _) in sent_counts {
                match n {
                    0 => lost += 1,
                    1 => once += 1,
                    _ => doubled += 1,
                }
            }
        }
    }
    let sent = received
        .iter()
        .map(|r| r.sent.iter().filter(|sent| **sent).count() as u64)
        .sum::<u64>();
    report.fact(
        "chats_sent",
        sent,
        "chats sent while in the session",
        format!(
            "{} ({} more fell due while their sender was away)",
            thousands(sent),
            thousands(shared.not_sent.load(Ordering::Acquire))
        ),
    );
    report.fact(
        "deliveries_exactly_once",
        once,
        "deliveries exactly once",
        thousands(once),
    );
    report.target(
        "deliveries_lost",
        lost,
        "deliveries lost",
        thousands(lost),
        &TARGET_LOST.to_string(),
        lost == TARGET_LOST,
    );
    report.target(
        "deliveries_doubled",
        doubled,
        "deliveries doubled",
        thousands(doubled),
        "0",
        doubled == 0,
    );
    let load = |n: &AtomicU64| n.load(Ordering::Acquire);
    report.fact(
        "repeats_dropped",
        serde_json::json!({
            "by_seq": load(&shared.seq_repeats),
            "by_id": load(&shared.id_repeats),
        }),
        "repeats dropped by the clients: by seq / by (sender, id)",
        format!(
            "{} / {}",
            thousands(load(&shared.seq_repeats)),
            thousands(load(&shared.id_repeats))
        ),
    );
    report.fact(
        "resent",
        load(&shared.resent),
        "chats re-sent after a resume (echo not seen)",
        thousands(load(&shared.resent)),
    );
    report.fact(
        "histories",
        serde_json::json!({
            "frames": load(&shared.histories),
            "entries": load(&shared.history_entries),
        }),
        "history frames sent / entries in them",
        format!(
            "{} / {}",
            thousands(load(&shared.histories)),
            thousands(load(&shared.history_entries))
        ),
    );
}

/// Per outage: sessions reclaimed, members back; per signal: recovery p50 / p99.
fn recovery_facts(
    report: &mut Report,
    shared: &Shared,
    plan: &[Signal],
    restart_ms: &[(f64, f64)],
) -> Result<(), String> {
    let returns = shared
        .returns
        .lock()
        .map_err(|_| "return log poisoned")?
        .clone();
    let members = shared.sessions * shared.participants;
    let mut per_outage = Vec::new();
    let mut all_sessions_back = true;
    for (i, signal) in plan.iter().enumerate() {
        let back: Vec<&(usize, u64, bool)> = returns.iter().filter(|r| r.0 == i).collect();
        let hosts = back.iter().filter(|r| r.2).count();
        all_sessions_back &= hosts == shared.sessions;
        per_outage.push(serde_json::json!({
            "signal": signal.name(),
            "sessions_reclaimed": hosts,
            "members_back": back.len(),
            "relay_exit_ms": restart_ms.get(i).map(|m| crate::report::round3(m.0)),
            "relay_back_ms": restart_ms.get(i).map(|m| crate::report::round3(m.1)),
        }));
    }
    report.target(
        "outages",
        serde_json::Value::Array(per_outage.clone()),
        "per outage: sessions reclaimed / members back / relay exited, back in",
        per_outage
            .iter()
            .map(|o| {
                format!(
                    "{} {}/{} {}/{} exit {:.0} ms, back {:.0} ms",
                    o["signal"].as_str().unwrap_or("?"),
                    o["sessions_reclaimed"],
                    shared.sessions,
                    o["members_back"],
                    members,
                    o["relay_exit_ms"].as_f64().unwrap_or(f64::NAN),
                    o["relay_back_ms"].as_f64().unwrap_or(f64::NAN)
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        "every session back",
        all_sessions_back,
    );
    let mut p99 = Vec::new();
    for signal in [Signal::Kill, Signal::Term] {
        let samples: Vec<u64> = returns
            .iter()
            .filter(|r| plan.get(r.0) == Some(&signal))
            .map(|r| r.1)
            .collect();
        let latency = Latency::of(samples);
        let key = format!("recovery_{}", signal.name().to_lowercase());
        report.fact(
            &key,
            latency.json(),
            &format!("recovery after {} p50 / p99", signal.name()),
            format!("{:.0} / {:.0} ms", latency.p50, latency.p99),
        );
        p99.push(latency.p99);
    }
    if let [kill, term] = p99[..] {
        report.target(
            "recovery_term_vs_kill",
            serde_json::json!({"sigterm_p99_ms": term, "sigkill_p99_ms": kill}),
            "recovery p99 after SIGTERM / after SIGKILL",
            format!("{term:.0} / {kill:.0} ms"),
            "SIGTERM no slower",
            term <= kill,
        );
    }
    Ok(())
}

/// One resumable participant, from its first join to the end of the run.
async fn client(shared: Arc<Shared>, session: usize, slot: usize) -> Received {
    let sender = session * shared.participants + slot;
    let mut received = Received {
        session,
        slot,
        sent: vec![false; shared.per_sender as usize],
        receipts: (0..shared.participants)
            .map(|_| vec![0u8; shared.per_sender as usize])
            .collect(),
    };
    let mut token: Option<String> = None;
    let mut last_seq: Option<u64> = None;
    let mut me = Memory::default();
    let mut counter = 0u64;
    let mut failures = 0u32;
    let mut restart_hint: Option<Instant> = None;
    let mut ever_in = false;
    let mut outages_seen = 0usize;
    let phase = super::chat::unit_random(shared.seed, sender as u64);
    while !shared.stopping.load(Ordering::Acquire) {
        let mut conn = match enter(&shared, session, slot, &token, last_seq).await {
            Ok(Entered::In { conn, welcome }) => {
                token = Some(welcome.resume_token);
                if last_seq.is_none() {
                    last_seq = welcome.session_seq;
                }
                me.user_id = welcome.user_id;
                failures = 0;
                if !ever_in {
                    ever_in = true;
                    shared.entered.fetch_add(1, Ordering::AcqRel);
                }
                note_return(&shared, &mut outages_seen, slot == 0);
                let mut conn = conn;
                if me
                    .catch_up(&shared, &mut conn, welcome.history_after)
                    .await
                    .is_err()
                {
                    continue;
                }
                conn
            }
            Ok(Entered::Retry(ms)) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                continue;
            }
            Err(_) => {
                let step = 500u64.saturating_mul(1 << failures.min(5)).min(15_000);
                failures += 1;
                tokio::time::sleep(Duration::from_millis(
                    step / 2 + (step as f64 * 0.5 * jitter(sender, failures)) as u64,
                ))
                .await;
                continue;
            }
        };
        // In the session: read everything, chat on schedule.
        let mut stop = shared.stop.subscribe();
        let mut start = shared.start.subscribe();
        loop {
            let next = counter;
            let chat_due = async {
                let at = match start.wait_for(Option::is_some).await {
                    Ok(start) if next < shared.per_sender => {
                        start.map(|start| start + shared.interval.mul_f64(phase + next as f64))
                    }
                    _ => None,
                };
                match at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = conn.recv() => match frame {
                    Ok(text) => {
                        let Ok(msg) = wire::parse(&text) else { continue };
                        if let Some(seq) = msg.seq {
                            last_seq = Some(last_seq.map_or(seq, |l| l.max(seq)));
                        }
                        match msg.kind.as_ref() {
                            "chat" if me.is_new(&shared, &msg) => {
                                count_receipt(&mut received, msg.message.as_deref(), session);
                                me.hold(&msg, &text);
                            }
                            "server_restarting" => {
                                // Counted from the notice, as the page counts it, not from the
                                // close that follows.
                                restart_hint = msg.retry_after_ms.map(|ms| {
                                    let spread = msg.retry_jitter_ms.unwrap_or(1_000) as f64;
                                    let wait = ms + (spread * jitter(sender, outages_seen as u32)) as u64;
                                    Instant::now() + Duration::from_millis(wait)
                                });
                            }
                            "token_refreshed" => {
                                if let Some(t) = msg.resume_token {
                                    token = Some(t.into_owned());
                                }
                            }
                            _ => {}
                        }
                    }
                    Err(_) => break,
                },
                () = chat_due => {
                    let text = format!("{session}:{slot}:{counter}:{}", now_ns());
                    let id = format!("c{counter}");
                    let this = counter as usize;
                    counter += 1;
                    let frame = Outbound::Chat { message: &text, id: Some(&id) }.text();
                    me.outbox.push_back((id, frame.clone()));
                    if conn.send(frame).await.is_ok() {
                        received.sent[this] = true;
                    } else {
                        // Never written: not sent, so not re-sent either.
                        me.outbox.pop_back();
                        shared.not_sent.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                () = async { drop(stop.wait_for(|stopped| *stopped).await) } => {
                    conn.close().await;
                    return received;
                }
            }
        }
        // Dropped. Chats that fall due while away are not sent (a person sees "reconnecting").
        let back_at = restart_hint.take().unwrap_or_else(|| {
            // As the page's first backoff step: 500 ms with equal jitter.
            Instant::now() + Duration::from_millis(250 + (250.0 * jitter(sender, 99)) as u64)
        });
        skip_missed_chats(&shared, phase, &mut counter, back_at);
        tokio::time::sleep_until(back_at).await;
    }
    received
}

/// Chat frames a client keeps, as `guest/src/protocol/client.ts` keeps them.
const HELD_FRAMES: usize = 200;

/// The most a `history` frame carries (JSON escaping included), under the relay's 64 KiB limit.
const HISTORY_BYTES: usize = 48 * 1024;

/// What one client remembers of its session's chat: what it has seen (to drop repeats), the
/// frames it holds (to hand back), and its own chats not yet seen echoed (to re-send).
#[derive(Default)]
struct Memory {
    user_id: String,
    seen_seqs: HashSet<u64>,
    seen_ids: HashSet<(String, String)>,
    held: VecDeque<(u64, String)>,
    /// (id, frame) of chats written but not yet seen echoed, oldest first.
    outbox: VecDeque<(String, String)>,
}

impl Memory {
    /// Whether a chat is new to this client (by `seq`, and by sender and id); an echo of its own
    /// chat leaves the outbox.
    fn is_new(&mut self, shared: &Shared, msg: &wire::Inbound<'_>) -> bool {
        if let Some(seq) = msg.seq {
            if !self.seen_seqs.insert(seq) {
                shared.seq_repeats.fetch_add(1, Ordering::Relaxed);
                return false;
            }
        }
        if let (Some(user), Some(id)) = (&msg.user_id, &msg.id) {
            if user.as_ref() == self.user_id {
                self.outbox.retain(|(mine, _)| mine != id.as_ref());
            }
            if !self.seen_ids.insert((user.to_string(), id.to_string())) {
                shared.id_repeats.fetch_add(1, Ordering::Relaxed);
                return false;
            }
        }
        true
    }

    fn hold(&mut self, msg: &wire::Inbound<'_>, text: &str) {
        let Some(seq) = msg.seq else { return };
        if self.held.len() >= HELD_FRAMES {
            self.held.pop_front();
        }
        self.held.push_back((seq, text.to_string()));
    }

    /// After a welcome: hand back what the relay asked for, then re-send the chats whose echo
    /// never came.
    async fn catch_up(
        &mut self,
        shared: &Shared,
        conn: &mut Conn,
        history_after: Option<u64>,
    ) -> Result<(), Failure> {
        if let Some(after) = history_after {
            let mut wanted: Vec<&(u64, String)> =
                self.held.iter().filter(|(seq, _)| *seq > after).collect();
            wanted.sort_by_key(|(seq, _)| *seq);
            // The newest that fit well inside the relay's 64 KiB frame, oldest first.
            let mut bytes = 0;
            let fit = wanted
                .iter()
                .rev()
                .take_while(|(_, text)| {
                    bytes += text.len() + 16;
                    bytes <= HISTORY_BYTES
                })
                .count();
            let entries: Vec<&str> = wanted[wanted.len() - fit..]
                .iter()
                .map(|(_, text)| text.as_str())
                .collect();
            shared.histories.fetch_add(1, Ordering::Relaxed);
            shared
                .history_entries
                .fetch_add(entries.len() as u64, Ordering::Relaxed);
            conn.send(Outbound::History { entries: &entries }.text())
                .await?;
        }
        for (_, frame) in &self.outbox {
            shared.resent.fetch_add(1, Ordering::Relaxed);
            conn.send(frame.clone()).await?;
        }
        Ok(())
    }
}

/// Counts the chats that fall due before `until` as not sent.
fn skip_missed_chats(shared: &Shared, phase: f64, counter: &mut u64, until: Instant) {
    let Some(start) = *shared.start.borrow() else {
        return;
    };
    while *counter < shared.per_sender
        && start + shared.interval.mul_f64(phase + *counter as f64) < until
    {
        *counter += 1;
        shared.not_sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// A number in [0, 1) for this client's `n`-th random choice.
fn jitter(sender: usize, n: u32) -> f64 {
    super::chat::unit_random(0x6a09_e667 ^ sender as u64, n as u64)
}

/// Records the first welcome after each outage this client has not answered yet.
fn note_return(shared: &Shared, outages_seen: &mut usize, host: bool) {
    let Ok(outages) = shared.outages.lock() else {
        return;
    };
    if *outages_seen >= outages.len() {
        return;
    }
    let index = outages.len() - 1;
    let began = outages[index].1;
    *outages_seen = outages.len();
    drop(outages);
    if let Ok(mut returns) = shared.returns.lock() {
        returns.push((index, now_ns().saturating_sub(began), host));
    }
}

fn count_receipt(received: &mut Received, message: Option<&str>, session: usize) {
    let mut parts = message.unwrap_or("").split(':');
    let (Some(s), Some(slot), Some(counter)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let (Ok(s), Ok(slot), Ok(counter)) = (
        s.parse::<usize>(),
        slot.parse::<usize>(),
        counter.parse::<usize>(),
    ) else {
        return;
    };
    if s != session {
        return;
    }
    if let Some(n) = received
        .receipts
        .get_mut(slot)
        .and_then(|counts| counts.get_mut(counter))
    {
        *n = n.saturating_add(1);
    }
}

/// What a welcome says that the client keeps.
struct Welcome {
    resume_token: String,
    user_id: String,
    session_seq: Option<u64>,
    history_after: Option<u64>,
}

/// How an attempt to get into the session ended.
enum Entered {
    In {
        conn: Box<Conn>,
        welcome: Welcome,
    },
    /// `host_not_back`: try again after this many ms.
    Retry(u64),
}

/// Connects and creates, joins or resumes.
async fn enter(
    shared: &Shared,
    session: usize,
    slot: usize,
    token: &Option<String>,
    last_seq: Option<u64>,
) -> Result<Entered, Failure> {
    let code = if slot == 0 || token.is_some() {
        None
    } else {
        // A guest's first join waits for its host's session.
        loop {
            if let Some(code) = shared.codes[session].get() {
                break Some(code.clone());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let mut conn = tokio::time::timeout(shared.target.timeout, shared.target.connect())
        .await
        .map_err(|_| Failure::Timeout("connect"))??;
    let name = format!("chaos-{session}-{slot}");
    let hello = match (token, &code) {
        (Some(token), _) => Outbound::Resume { token, last_seq },
        (None, None) => Outbound::Create {
            name: "chaos",
            username: &name,
            capabilities: CAPABILITIES,
        },
        (None, Some(code)) => Outbound::JoinGuest {
            code,
            guest_name: &name,
            capabilities: CAPABILITIES,
        },
    }
    .text();
    conn.send(hello).await?;
    let answer = tokio::time::timeout(shared.target.timeout, async {
        loop {
            let text = conn.recv().await.map_err(Err)?;
            let Ok(msg) = wire::parse(&text) else {
                continue;
            };
            match msg.kind.as_ref() {
                "session_created" | "session_joined" | "session_resumed" => {
                    let session_ref = msg.session.as_ref();
                    if msg.kind == "session_created" {
                        if let Some(s) = session_ref {
                            let _ = shared.codes[session].set(s.code.clone());
                        }
                    }
                    let seq = session_ref.and_then(|s| s.seq);
                    return Ok(msg.resume_token.map(|token| Welcome {
                        resume_token: token.into_owned(),
                        user_id: msg.your_user_id.unwrap_or_default().into_owned(),
                        session_seq: seq,
                        history_after: msg.history_after,
                    }));
                }
                "error" => {
                    let label = msg.error_label();
                    if let Ok(mut refusals) = shared.refusals.lock() {
                        *refusals.entry(label.clone()).or_default() += 1;
                    }
                    if label == "error:host_not_back" {
                        return Err(Ok(msg.retry_after_ms.unwrap_or(1000)));
                    }
                    return Err(Err(Failure::Refused(label)));
                }
                _ => continue,
            }
        }
    })
    .await
    .map_err(|_| Failure::Timeout("welcome"))?;
    match answer {
        Ok(Some(welcome)) => Ok(Entered::In {
            conn: Box::new(conn),
            welcome,
        }),
        Ok(None) => Err(Failure::Protocol("no resume_token")),
        Err(Ok(retry_ms)) => Ok(Entered::Retry(retry_ms)),
        Err(Err(failure)) => Err(failure),
    }
}

/// The relay process the bench starts, stops and starts again.
struct RelayProcess {
    child: Child,
}

impl RelayProcess {
    /// Starts `--relay-bin` on the URL's port with the run's secret; the rest of its settings
    /// come from the environment (`bench/run.sh` exports raised caps).
    fn start(args: &ChaosArgs, port: u16) -> Result<Self, String> {
        let child = Command::new(&args.relay_bin)
            .env("SESSION_SECRET", &args.secret)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", args.relay_bin.display()))?;
        Ok(RelayProcess { child })
    }

    fn rss(&self) -> Option<u64> {
        rss_kib(self.child.id()).ok()
    }

    /// Waits until `/health`-level readiness: the port accepts and upgrades a WebSocket.
    async fn wait_healthy(&mut self, target: &crate::conn::Target) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("relay exited at start: {status}"));
            }
            if let Ok(conn) = target.connect().await {
                // Dropped, not closed politely: the relay ends a closed socket's TCP only after
                // ~0.7 s, which is not the restart's time.
                drop(conn);
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err("relay not up within 20 s".into())
    }

    /// Sends `signal` and waits for the process to exit.
    async fn stop(&mut self, signal: Signal) -> Result<(), String> {
        let number = match signal {
            Signal::Kill => libc::SIGKILL,
            Signal::Term => libc::SIGTERM,
        };
        let pid = libc::pid_t::try_from(self.child.id()).map_err(|_| "pid out of range")?;
        // SAFETY: kill(2) with our own child's pid and a valid signal number.
        unsafe {
            libc::kill(pid, number);
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(format!("relay still running 15 s after {}", signal.name()));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_alternate_starting_with_a_kill() {
        use Signal::*;
        assert_eq!(outage_plan(3, 2), vec![Kill, Term, Kill, Term, Kill]);
        assert_eq!(outage_plan(1, 3), vec![Kill, Term, Term, Term]);
        assert_eq!(outage_plan(0, 0), Vec::<Signal>::new());
    }

    #[test]
    fn receipts_count_only_this_sessions_chats() {
        let mut received = Received {
            session: 2,
            slot: 0,
            sent: vec![],
            receipts: vec![vec![0; 3]; 2],
        };
        count_receipt(&mut received, Some("2:1:2:123"), 2);
        count_receipt(&mut received, Some("2:1:2:124"), 2);
        count_receipt(&mut received, Some("3:1:0:1"), 2);
        count_receipt(&mut received, Some("garbage"), 2);
        count_receipt(&mut received, Some("2:9:0:1"), 2);
        assert_eq!(received.receipts, vec![vec![0, 0, 0], vec![0, 0, 2]]);
    }
}
