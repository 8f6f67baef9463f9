//! Filling the relay: every host sends `create`, then every guest sends `join_guest` with its
//! host's code (from `session_created.session.code`), with at most `in_flight` clients between
//! "connect started" and "in the session" at once. Every scenario builds on this: it supplies
//! what a host and a guest do once they are in, and the controller moves all of them through
//! the [`Phase`]s together.
//!
//! Each client is one task that owns its socket from connect to close and reads it the whole
//! time, so the relay's pings are answered and its broadcasts never pile up unread.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use crate::conn::{Conn, Failure, Target};
use crate::wire::{self, Inbound, Outbound};

/// Where the run is. Clients wait for a phase while reading their sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Sessions are filling.
    Setup,
    /// Everyone is in: the scenario's traffic runs.
    Run,
    /// Stop reading (what arrives from now on is not counted) and wait.
    Stop,
    /// Everyone has stopped reading: leave, close the socket and report. Leaving only now keeps
    /// one client's departure out of the counts of another that had not yet seen `Stop`.
    Leave,
}

/// What a client tells the controller while the relay fills.
#[derive(Debug)]
enum Event {
    Created {
        session: usize,
        code: String,
        latency: Duration,
    },
    Joined {
        session: usize,
        latency: Duration,
        /// From the `join` frame's send to `session_joined`: the relay's part.
        answered_in: Duration,
    },
    /// A host has heard `guest_joined` for each of its guests.
    Ready,
    Failed {
        label: String,
    },
}

/// What every client task shares.
pub struct Ctx {
    pub target: Arc<Target>,
    /// Caps clients between "connect started" and "in the session" (and, for the handshake, one
    /// handshake each), so latencies are measured at a known concurrency.
    pub in_flight: Semaphore,
    /// The controller's phase.
    phase: watch::Receiver<Phase>,
    /// Join progress to the controller; closed once the relay is filled.
    events: mpsc::Sender<Event>,
    /// Clients in a session with their socket open now: what the capacity run holds.
    pub open: AtomicUsize,
    /// Spaces guests' join starts at a fixed rate, when asked to.
    pacer: Option<Pacer>,
}

/// Starts joins at a fixed rate (open loop), so latency shows the relay's service time rather
/// than the queue a closed loop of `in_flight` clients builds.
struct Pacer {
    per_sec: f64,
    /// The next join's slot number.
    next: AtomicU64,
    /// When slot 0 starts: the first guest to ask.
    start: OnceLock<tokio::time::Instant>,
}

impl Pacer {
    /// Waits for this join's slot.
    async fn wait(&self) {
        let slot = self.next.fetch_add(1, Ordering::Relaxed);
        let start = *self.start.get_or_init(tokio::time::Instant::now);
        tokio::time::sleep_until(start + Duration::from_secs_f64(slot as f64 / self.per_sec)).await;
    }
}

impl Ctx {
    async fn report(&self, event: Event) {
        // The controller stops listening once filled; a late `Ready` is then of no interest.
        let _ = self.events.send(event).await;
    }
}

/// Waits until the controller's phase is at least `phase` (or the controller is gone). Pin it
/// once outside a read loop: each new wait registers with the channel again.
pub async fn reached(watch: &mut watch::Receiver<Phase>, phase: Phase) {
    let _ = watch.wait_for(|now| *now >= phase).await;
}

/// Frames a client received, counted.
#[derive(Debug, Default)]
pub struct Tally {
    pub frames: u64,
    /// Frames by `type`, to check the relay sent what the protocol says and nothing else.
    pub kinds: HashMap<String, u64>,
    /// Frames that were not a JSON object with a string `type`.
    pub unparsed: u64,
    /// `error` frames by label.
    pub errors: BTreeMap<String, u64>,
    /// Why the socket dropped before the end of the run, if it did.
    pub dropped: Option<String>,
}

impl Tally {
    /// Counts one frame and reads it; `None` when it cannot be read.
    pub fn note<'t>(&mut self, text: &'t str) -> Option<Inbound<'t>> {
        self.frames += 1;
        match wire::parse(text) {
            Ok(msg) => {
                match self.kinds.get_mut(msg.kind.as_ref()) {
                    Some(n) => *n += 1,
                    None => {
                        self.kinds.insert(msg.kind.clone().into_owned(), 1);
                    }
                }
                if msg.kind == "error" {
                    *self.errors.entry(msg.error_label()).or_default() += 1;
                }
                Some(msg)
            }
            Err(_) => {
                self.unparsed += 1;
                None
            }
        }
    }
}

/// Many clients' tallies added up.
#[derive(Debug, Default)]
pub struct TallySum {
    pub frames: u64,
    pub kinds: BTreeMap<String, u64>,
    pub unparsed: u64,
    pub errors: BTreeMap<String, u64>,
    pub dropped: BTreeMap<String, u64>,
}

impl TallySum {
    pub fn add(&mut self, tally: &Tally) {
        self.frames += tally.frames;
        for (kind, n) in &tally.kinds {
            *self.kinds.entry(kind.clone()).or_default() += n;
        }
        self.unparsed += tally.unparsed;
        for (label, n) in &tally.errors {
            *self.errors.entry(label.clone()).or_default() += n;
        }
        if let Some(label) = &tally.dropped {
            *self.dropped.entry(label.clone()).or_default() += 1;
        }
    }
}

/// A client that is in a session.
pub struct Member {
    pub conn: Conn,
    pub user_id: String,
    pub session: usize,
    pub tally: Tally,
    /// The controller's phase, for `select!` beside [`Conn::recv`].
    pub phase: watch::Receiver<Phase>,
    ctx: Arc<Ctx>,
}

impl Member {
    /// Reads and counts frames until the controller reaches `phase`.
    ///
    /// Errors: the socket dropped first.
    pub async fn idle_until(&mut self, phase: Phase) -> Result<(), Failure> {
        let reached = reached(&mut self.phase, phase);
        tokio::pin!(reached);
        loop {
            tokio::select! {
                biased;
                () = &mut reached => return Ok(()),
                frame = self.conn.recv() => {
                    let frame = frame?;
                    self.tally.note(&frame);
                }
            }
        }
    }

    /// For a host: reads until `expected` `guest_joined` have come (then tells the controller
    /// it is ready) or the run starts without them; returns the guests' user ids in join order.
    ///
    /// Errors: the socket dropped first.
    pub async fn gather_guests(&mut self, expected: usize) -> Result<Vec<String>, Failure> {
        let mut guests = Vec::with_capacity(expected);
        let run = reached(&mut self.phase, Phase::Run);
        tokio::pin!(run);
        while guests.len() < expected {
            tokio::select! {
                biased;
                () = &mut run => return Ok(guests),
                frame = self.conn.recv() => {
                    let frame = frame?;
                    if let Some(msg) = self.tally.note(&frame) {
                        if msg.kind == "guest_joined" {
                            if let Some(id) = msg.user_id {
                                guests.push(id.into_owned());
                            }
                        }
                    }
                }
            }
        }
        self.ctx.report(Event::Ready).await;
        Ok(guests)
    }

    /// Records how the client's work ended, sends `leave` and closes the socket (when it is
    /// still open), and hands back its tally.
    pub async fn finish(mut self, outcome: Result<(), Failure>) -> Tally {
        self.ctx.open.fetch_sub(1, Ordering::Release);
        match outcome {
            Ok(()) => {
                reached(&mut self.phase, Phase::Leave).await;
                // The socket closes next either way; a failed `leave` changes nothing.
                let _ = self.conn.send(Outbound::Leave {}.text()).await;
                self.conn.close().await;
            }
            Err(failure) => self.tally.dropped = Some(failure.label()),
        }
        self.tally
    }
}

/// A client the relay welcomed.
struct Entered {
    conn: Conn,
    user_id: String,
    code: String,
    /// From the hello frame's send to the welcome, without connect and upgrade.
    answered_in: Duration,
}

/// Connects, sends `hello`, and waits for the reply of kind `welcome`.
async fn enter(target: &Target, hello: String, welcome: &str) -> Result<Entered, Failure> {
    let mut conn = target.connect().await?;
    let sent = Instant::now();
    conn.send(hello).await?;
    loop {
        let frame = conn.recv().await?;
        let Ok(msg) = wire::parse(&frame) else {
            return Err(Failure::Protocol("unreadable reply"));
        };
        if msg.kind == welcome {
            let user_id = msg
                .your_user_id
                .ok_or(Failure::Protocol("no your_user_id"))?
                .into_owned();
            let code = msg.session.ok_or(Failure::Protocol("no session"))?.code;
            return Ok(Entered {
                conn,
                user_id,
                code,
                answered_in: sent.elapsed(),
            });
        }
        if msg.kind == "error" {
            return Err(Failure::Refused(msg.error_label()));
        }
    }
}

/// Opens session number `session` as its host. `None` (already reported) on failure.
pub async fn open_host(ctx: &Arc<Ctx>, session: usize) -> Option<Member> {
    let username = format!("host-{session}");
    let hello = Outbound::Create {
        name: "bench",
        username: &username,
        capabilities: &[],
    }
    .text();
    let (result, latency) = admitted(ctx, hello, "session_created", "create").await;
    match result {
        Ok(entered) => {
            ctx.report(Event::Created {
                session,
                code: entered.code,
                latency,
            })
            .await;
            Some(member(ctx, entered.conn, entered.user_id, session))
        }
        Err(failure) => {
            ctx.report(Event::Failed {
                label: format!("host {}", failure.label()),
            })
            .await;
            None
        }
    }
}

/// Joins session number `session` (code `code`) as guest number `index`. `None` (already
/// reported) on failure.
pub async fn open_guest(
    ctx: &Arc<Ctx>,
    session: usize,
    index: usize,
    code: &str,
) -> Option<Member> {
    let guest_name = format!("guest-{session}-{index}");
    let hello = Outbound::JoinGuest {
        code,
        guest_name: &guest_name,
        capabilities: &[],
    }
    .text();
    if let Some(pacer) = &ctx.pacer {
        pacer.wait().await;
    }
    let (result, latency) = admitted(ctx, hello, "session_joined", "join").await;
    match result {
        Ok(entered) => {
            ctx.report(Event::Joined {
                session,
                latency,
                answered_in: entered.answered_in,
            })
            .await;
            Some(member(ctx, entered.conn, entered.user_id, session))
        }
        Err(failure) => {
            ctx.report(Event::Failed {
                label: format!("guest {}", failure.label()),
            })
            .await;
            None
        }
    }
}

/// [`enter`] under an in-flight permit and the step timeout; the latency runs from connect
/// start to the welcome, and does not include waiting for the permit.
async fn admitted(
    ctx: &Ctx,
    hello: String,
    welcome: &str,
    step: &'static str,
) -> (Result<Entered, Failure>, Duration) {
    let Ok(_permit) = ctx.in_flight.acquire().await else {
        return (Err(Failure::Protocol("bench shut down")), Duration::ZERO);
    };
    let started = Instant::now();
    let result = tokio::time::timeout(ctx.target.timeout, enter(&ctx.target, hello, welcome))
        .await
        .unwrap_or(Err(Failure::Timeout(step)));
    (result, started.elapsed())
}

fn member(ctx: &Arc<Ctx>, conn: Conn, user_id: String, session: usize) -> Member {
    ctx.open.fetch_add(1, Ordering::Relaxed);
    Member {
        conn,
        user_id,
        session,
        tally: Tally::default(),
        phase: ctx.phase.clone(),
        ctx: Arc::clone(ctx),
    }
}

/// How filling the relay went.
#[derive(Debug, Default)]
pub struct Fill {
    pub sessions_created: usize,
    /// Host connect → `session_created`, nanoseconds.
    pub create_ns: Vec<u64>,
    pub guests_joined: usize,
    /// Guest connect → `session_joined`, nanoseconds.
    pub join_ns: Vec<u64>,
    /// Guest `join` sent → `session_joined`, nanoseconds: the relay's answer without the
    /// connect and upgrade.
    pub join_answer_ns: Vec<u64>,
    /// Failed creates and joins by label (`host …` / `guest …`).
    pub failures: BTreeMap<String, u64>,
    /// Guests in each session (0 where the host failed).
    pub joined_per_session: Vec<usize>,
    /// Whether each session's host exists.
    pub created: Vec<bool>,
    /// Hosts that heard `guest_joined` for every one of their guests before the run.
    pub hosts_ready: usize,
    /// Hosts that should have: those whose guests all joined.
    pub hosts_expected_ready: usize,
    /// From the first connect to the last join.
    pub elapsed: Duration,
    /// SYNs the kernel dropped for a full accept queue while filling (`None`: unreadable).
    pub listen_drops: Option<u64>,
}

/// A create or join that took longer than this waited for a dropped SYN to be sent again (the
/// kernel's first retry comes after 1 s).
const SYN_RETRY_SIGN: Duration = Duration::from_millis(900);

impl Fill {
    /// Creates and joins that waited for a SYN retry: no real client should ever wait that
    /// long, so they are counted apart (beside the kernel's own count, `listen_drops`).
    pub fn waited_for_syn_retry(&self) -> usize {
        let limit = SYN_RETRY_SIGN.as_nanos() as u64;
        self.create_ns
            .iter()
            .chain(&self.join_ns)
            .filter(|ns| **ns > limit)
            .count()
    }
}

/// The running clients, and the controller's hold on their phase.
pub struct Fleet<H, G> {
    pub ctx: Arc<Ctx>,
    phase: watch::Sender<Phase>,
    hosts: JoinSet<H>,
    guests: JoinSet<G>,
}

impl<H: 'static, G: 'static> Fleet<H, G> {
    /// Moves every client to `phase`.
    pub fn set_phase(&self, phase: Phase) {
        self.phase.send_replace(phase);
    }

    /// Moves every client to [`Phase::Stop`], then, once all have stopped reading (or the step
    /// timeout passed), to [`Phase::Leave`], and collects what each reported. A client task
    /// that panicked is left out (none should: they never unwrap what the relay sent).
    pub async fn stop(mut self) -> (Vec<H>, Vec<G>) {
        self.set_phase(Phase::Stop);
        let deadline = tokio::time::Instant::now() + self.ctx.target.timeout;
        while self.ctx.open.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.set_phase(Phase::Leave);
        let mut hosts = Vec::with_capacity(self.hosts.len());
        while let Some(done) = self.hosts.join_next().await {
            hosts.extend(done.ok());
        }
        let mut guests = Vec::with_capacity(self.guests.len());
        while let Some(done) = self.guests.join_next().await {
            guests.extend(done.ok());
        }
        (hosts, guests)
    }
}

/// Starts one host per entry of `plan` (the entry is its number of guests), waits until every
/// host has created its session, then starts the guests (their joins paced at `join_rate` per
/// second when it is above 0), then starts the guests and waits until every one has joined
/// or failed, and until every host whose guests all joined has heard of them. Clients then
/// wait in [`Phase::Setup`] for the controller.
///
/// `host(ctx, session, guests)` and `guest(ctx, session, index, code)` are the client tasks;
/// they must call [`open_host`] / [`open_guest`] first.
pub async fn fill<H, HF, G, GF>(
    target: Arc<Target>,
    in_flight: usize,
    join_rate: f64,
    plan: &[usize],
    host: impl Fn(Arc<Ctx>, usize, usize) -> HF,
    guest: impl Fn(Arc<Ctx>, usize, usize, String) -> GF,
) -> (Fleet<H, G>, Fill)
where
    HF: Future<Output = H> + Send + 'static,
    GF: Future<Output = G> + Send + 'static,
    H: Send + 'static,
    G: Send + 'static,
{
    let (phase_tx, phase_rx) = watch::channel(Phase::Setup);
    let (events_tx, mut events) = mpsc::channel(1024);
    let ctx = Arc::new(Ctx {
        target,
        in_flight: Semaphore::new(in_flight.max(1)),
        phase: phase_rx,
        events: events_tx,
        open: AtomicUsize::new(0),
        pacer: (join_rate > 0.0).then(|| Pacer {
            per_sec: join_rate,
            next: AtomicU64::new(0),
            start: OnceLock::new(),
        }),
    });
    let started = Instant::now();
    let drops_before = crate::system::listen_drops();
    let mut fill = Fill {
        joined_per_session: vec![0; plan.len()],
        created: vec![false; plan.len()],
        ..Fill::default()
    };
    let mut codes: Vec<Option<String>> = vec![None; plan.len()];

    let mut hosts = JoinSet::new();
    for (session, &guests) in plan.iter().enumerate() {
        hosts.spawn_on(
            host(Arc::clone(&ctx), session, guests),
            &crate::system::next_client_runtime(),
        );
    }
    let mut pending = plan.len();
    while pending > 0 {
        let Some(event) = events.recv().await else {
            break;
        };
        match event {
            Event::Created {
                session,
                code,
                latency,
            } => {
                pending -= 1;
                fill.sessions_created += 1;
                fill.create_ns.push(latency.as_nanos() as u64);
                fill.created[session] = true;
                codes[session] = Some(code);
            }
            Event::Failed { label } => {
                pending -= 1;
                *fill.failures.entry(label).or_default() += 1;
            }
            Event::Ready => fill.hosts_ready += 1,
            Event::Joined { .. } => {}
        }
    }

    let mut guests = JoinSet::new();
    for (session, code) in codes.iter().enumerate() {
        let Some(code) = code else { continue };
        for index in 0..plan[session] {
            guests.spawn_on(
                guest(Arc::clone(&ctx), session, index, code.clone()),
                &crate::system::next_client_runtime(),
            );
            pending += 1;
        }
    }
    while pending > 0 {
        let Some(event) = events.recv().await else {
            break;
        };
        match event {
            Event::Joined {
                session,
                latency,
                answered_in,
            } => {
                pending -= 1;
                fill.guests_joined += 1;
                fill.join_ns.push(latency.as_nanos() as u64);
                fill.join_answer_ns.push(answered_in.as_nanos() as u64);
                fill.joined_per_session[session] += 1;
            }
            Event::Failed { label } => {
                pending -= 1;
                *fill.failures.entry(label).or_default() += 1;
            }
            Event::Ready => fill.hosts_ready += 1,
            Event::Created { .. } => {}
        }
    }
    fill.elapsed = started.elapsed();
    fill.listen_drops = drops_before
        .zip(crate::system::listen_drops())
        .map(|(before, after)| after.saturating_sub(before));

    fill.hosts_expected_ready = (0..plan.len())
        .filter(|&s| fill.created[s] && fill.joined_per_session[s] == plan[s])
        .count();
    let deadline = tokio::time::Instant::now() + ctx.target.timeout;
    while fill.hosts_ready < fill.hosts_expected_ready {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(Event::Ready)) => fill.hosts_ready += 1,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    drop(events);

    let fleet = Fleet {
        ctx,
        phase: phase_tx,
        hosts,
        guests,
    };
    (fleet, fill)
}
