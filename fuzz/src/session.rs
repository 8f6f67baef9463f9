//! Target `session`: the real registry and session actors (familiar-actors) driven by several
//! connections at once with random traffic: create, join, join_guest, resume (with live, stale,
//! foreign and broken tokens), leave, dropped sockets, chat, reactions, kicks, playback, WebRTC
//! and every other frame of the seed corpus, its placeholders filled with live codes, user ids,
//! tokens and sequence numbers, or with junk, and often mutated. Now and then the relay
//! "restarts": every session is shut down and a new registry with the same token secret takes
//! over, which members resume into.
//!
//! Each connection is a stand-in actor that does what the relay's connection does with a frame
//! (`parse_client_message`, the relay's own `route`, the registry's `Enter`, `Command`, `Leave`,
//! `Disconnected` when its socket goes) and checks what it receives. An input is one message
//! delivered: a client frame or a dropped socket. Checked:
//! - no panic, in the driver or in any actor;
//! - every frame a member receives is a JSON object with a string `type`; an `error` has a
//!   `code` and a non-empty `message`;
//! - never more live sessions than the cap;
//! - once everyone has left or dropped and the grace period (a few milliseconds here) has
//!   passed, nothing is left: the registry is empty and `sessions_live` and `participants_live`
//!   are 0, before and after a restart alike.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use familiar_actors::core::Core;
use familiar_actors::ice::FixedIceServers;
use familiar_actors::ids::{ConnId, SessionKey};
use familiar_actors::limits::Limits;
use familiar_actors::metrics::Metrics;
use familiar_actors::outbound::{Conn, Outbound};
use familiar_actors::protocol::parse_client_message;
use familiar_actors::registry::{CountSessions, Enter, Registry, ShutdownAll};
use familiar_actors::session::{Command, Disconnected, Leave, Session};
use familiar_actors::token::TokenSigner;
use familiar_sessions::connection::{route, Route};
use serde_json::Value;

use crate::mutate::{awkward_value, mutate_json, mutate_text};
use crate::report::{panics_so_far, Report};
use crate::rng::Rng;
use crate::seeds::corpus;

/// How long the end of an episode may take to clear before it counts as a leak.
const CLEAR_WITHIN: Duration = Duration::from_secs(3);

/// Runs episodes from `seed` until `inputs` messages have been delivered.
pub fn run(inputs: u64, seed: u64) -> Report {
    crate::report::count_panics();
    let mut report = Report::new("session", "messages delivered");
    let started = Instant::now();
    let system = System::new();
    let panics_before = panics_so_far();
    let report = system.block_on(async move {
        let mut episode = 0u64;
        while report.inputs < inputs {
            let budget = (inputs - report.inputs).min(400);
            let mut rng = Rng::for_input(seed, episode);
            let panics = panics_so_far();
            let outcome = Episode::new(&mut rng)
                .run(&mut rng, budget, &mut report)
                .await;
            if let Err(what) = outcome {
                report.fail(format!("episode {episode} (seed {seed}): {what}"));
            }
            if panics_so_far() > panics {
                report.fail(format!(
                    "episode {episode} (seed {seed}): panic: {}",
                    crate::report::last_panic()
                ));
            }
            episode += 1;
        }
        report.saw(format!("episodes:{episode}"));
        report
    });
    let mut report = report;
    report.panics = panics_so_far() - panics_before;
    report.elapsed = started.elapsed();
    report
}

/// What the connections learnt from the frames they received, for the next frames to use, and
/// what they found wrong.
#[derive(Default)]
struct World {
    codes: Vec<String>,
    user_ids: Vec<String>,
    tokens: Vec<String>,
    seqs: Vec<u64>,
    /// The last resume token each slot was given.
    slot_tokens: BTreeMap<usize, String>,
    kinds: BTreeMap<String, u64>,
    failures: Vec<String>,
}

impl World {
    fn saw(&mut self, kind: String) {
        *self.kinds.entry(kind).or_default() += 1;
    }

    fn keep(list: &mut Vec<String>, item: &str) {
        if !list.iter().any(|s| s == item) {
            list.push(item.to_string());
            if list.len() > 24 {
                list.remove(0);
            }
        }
    }

    /// Checks one frame a member received and learns from it.
    fn receive(&mut self, slot: usize, text: &str) {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return self.failures.push(format!(
                "slot {slot} got a frame that is not JSON: {text:?}"
            ));
        };
        let Some(kind) = v.get("type").and_then(Value::as_str) else {
            return self.failures.push(format!(
                "slot {slot} got a frame without a string type: {text:?}"
            ));
        };
        if kind == "error" {
            let code = v["code"].as_str().unwrap_or("");
            let message = v["message"].as_str().unwrap_or("");
            if code.is_empty() || message.is_empty() {
                self.failures
                    .push(format!("an error without code or message: {text}"));
            }
            self.saw(format!("recv:error:{code}"));
        } else {
            self.saw(format!("recv:{kind}"));
        }
        if let Some(code) = v["session"]["code"].as_str() {
            World::keep(&mut self.codes, code);
        }
        for id in [&v["your_user_id"], &v["user_id"], &v["user"]["user_id"]] {
            if let Some(id) = id.as_str() {
                World::keep(&mut self.user_ids, id);
            }
        }
        if let Some(token) = v["resume_token"].as_str() {
            World::keep(&mut self.tokens, token);
            self.slot_tokens.insert(slot, token.to_string());
        }
        if let Some(seq) = v["seq"].as_u64().or(v["session"]["seq"].as_u64()) {
            self.seqs.push(seq);
            if self.seqs.len() > 24 {
                self.seqs.remove(0);
            }
        }
    }
}

/// A connection as the relay's connection actor behaves, without the socket.
struct FakeConn {
    id: ConnId,
    slot: usize,
    ip: IpAddr,
    registry: Addr<Registry>,
    membership: Option<(SessionKey, Addr<Session>)>,
    closing: bool,
    world: Rc<RefCell<World>>,
}

impl Actor for FakeConn {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some((_, session)) = self.membership.take() {
            session.do_send(Disconnected { from: self.id });
        }
    }
}

impl Handler<Outbound> for FakeConn {
    type Result = ();

    fn handle(&mut self, out: Outbound, ctx: &mut Context<Self>) {
        match out {
            Outbound::Frame(text) => self.world.borrow_mut().receive(self.slot, &text),
            Outbound::Close(why) => {
                self.world
                    .borrow_mut()
                    .saw(format!("close:{} {}", why.code, why.label));
                // The client answers the close at once; the socket is gone.
                self.closing = true;
                ctx.stop();
            }
            Outbound::Detached { key } => {
                if self.membership.as_ref().is_some_and(|(k, _)| *k == key) {
                    self.membership = None;
                }
            }
        }
    }
}

/// One client text frame arriving.
#[derive(Message)]
#[rtype(result = "()")]
struct Deliver(String);

impl Handler<Deliver> for FakeConn {
    type Result = ();

    fn handle(&mut self, Deliver(text): Deliver, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        let msg = match parse_client_message(&text) {
            Ok(msg) => msg,
            Err(_) => return self.world.borrow_mut().saw("sent:unparsed".into()),
        };
        self.world.borrow_mut().saw(format!("sent:{}", msg.kind()));
        let received = Instant::now();
        let request = match route(msg) {
            Route::Enter(request) => request,
            Route::Leave => {
                let Some((_, session)) = self.membership.take() else {
                    return;
                };
                let id = self.id;
                ctx.wait(
                    async move {
                        let _ = session.send(Leave { from: id }).await;
                    }
                    .into_actor(self),
                );
                return;
            }
            Route::Session(other) => {
                if let Some((_, session)) = &self.membership {
                    session.do_send(Command {
                        from: self.id,
                        msg: other,
                        received,
                    });
                }
                return;
            }
        };
        if self.membership.is_some() {
            return;
        }
        let enter = Enter {
            conn: Conn {
                id: self.id,
                tx: ctx.address().recipient(),
            },
            home: Arbiter::current(),
            ip: Some(self.ip),
            received,
            request,
        };
        let registry = self.registry.clone();
        ctx.wait(
            async move { registry.send(enter).await }
                .into_actor(self)
                .map(|answer, act, _| {
                    let kind = match answer {
                        Ok(Ok(m)) => {
                            act.membership = Some((m.key, m.session));
                            "entered".to_string()
                        }
                        Ok(Err(e)) => format!("refused:{}", e.outcome()),
                        Err(_) => "registry gone".to_string(),
                    };
                    act.world.borrow_mut().saw(kind);
                }),
        );
    }
}

/// Answered once everything before it was handled (a pending enter or leave included).
#[derive(Message)]
#[rtype(result = "()")]
struct Settle;

impl Handler<Settle> for FakeConn {
    type Result = ();
    fn handle(&mut self, _: Settle, _: &mut Context<Self>) {}
}

/// The socket drops without a close.
#[derive(Message)]
#[rtype(result = "()")]
struct DropSocket;

impl Handler<DropSocket> for FakeConn {
    type Result = ();
    fn handle(&mut self, _: DropSocket, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// One relay "process": its registry and its metrics.
struct Relay {
    registry: Addr<Registry>,
    metrics: Arc<Metrics>,
}

impl Relay {
    fn start(limits: &Limits) -> Relay {
        let core = Arc::new(Core {
            limits: limits.clone(),
            ice: Arc::new(FixedIceServers::new(vec![])),
            metrics: Arc::new(Metrics::new()),
            tokens: TokenSigner::new(b"fuzz secret, the same across restarts"),
        });
        Relay {
            metrics: core.metrics.clone(),
            registry: Registry::new(core, vec![]).start(),
        }
    }

    /// Waits until nothing is live; `Err` says what leaked.
    async fn cleared(&self) -> Result<(), String> {
        let until = Instant::now() + CLEAR_WITHIN;
        loop {
            let codes = self
                .registry
                .send(CountSessions)
                .await
                .unwrap_or(usize::MAX);
            let sessions = self.metrics.sessions_live.get();
            let participants = self.metrics.participants_live.get();
            if codes == 0 && sessions == 0 && participants == 0 {
                return Ok(());
            }
            if Instant::now() > until {
                return Err(format!(
                    "leaked after everyone left: {codes} codes, {sessions} sessions, \
                     {participants} participants live"
                ));
            }
            actix_rt::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// One run of a relay and a few connections.
struct Episode {
    limits: Limits,
    relay: Relay,
    conns: Vec<Addr<FakeConn>>,
    world: Rc<RefCell<World>>,
}

impl Episode {
    fn new(rng: &mut Rng) -> Episode {
        let limits = Limits {
            max_sessions: rng.range(1, 4),
            max_participants: rng.range(2, 6),
            max_chat_chars: *rng.pick(&[1000, 12]),
            max_name_chars: *rng.pick(&[40, 3]),
            heartbeat_interval: Duration::from_millis(rng.range(2, 50) as u64),
            grace_period: Duration::from_millis(*rng.pick(&[0, 0, 1, 3, 5])),
            replay_buffer: *rng.pick(&[0, 3, 200]),
            wrong_passwords_per_minute: *rng.pick(&[2, 10]),
            join_failures_per_minute: *rng.pick(&[3, 30, 1000]),
            token_ttl: if rng.one_in(20) {
                Duration::ZERO
            } else {
                Duration::from_secs(3600)
            },
            ..Limits::default()
        };
        Episode::with_limits(limits)
    }

    fn with_limits(limits: Limits) -> Episode {
        let relay = Relay::start(&limits);
        Episode {
            limits,
            relay,
            conns: Vec::new(),
            world: Rc::new(RefCell::new(World::default())),
        }
    }

    fn connect(&self, slot: usize) -> Addr<FakeConn> {
        FakeConn {
            id: ConnId::next(),
            slot,
            ip: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (slot % 3) as u8)),
            registry: self.relay.registry.clone(),
            membership: None,
            closing: false,
            world: self.world.clone(),
        }
        .start()
    }

    async fn run(mut self, rng: &mut Rng, budget: u64, report: &mut Report) -> Result<(), String> {
        let slots = rng.range(3, 7);
        self.conns = (0..slots).map(|s| self.connect(s)).collect();
        let mut delivered = 0u64;
        while delivered < budget {
            let slot = rng.below(slots);
            if !self.conns[slot].connected() || rng.one_in(30) {
                // A new socket for this client; the old one, if still open, drops.
                self.conns[slot].do_send(DropSocket);
                self.conns[slot] = self.connect(slot);
                delivered += 1;
            }
            if rng.one_in(300) {
                self.restart().await?;
            } else if rng.one_in(12) {
                self.conns[slot].do_send(DropSocket);
            } else {
                let text = self.frame(rng, slot);
                self.conns[slot].do_send(Deliver(text));
            }
            delivered += 1;
            let _ = self.conns[slot].send(Settle).await;
            let live = self.relay.metrics.sessions_live.get();
            if live > self.limits.max_sessions as i64 {
                return Err(format!(
                    "{live} sessions live, over the cap of {}",
                    self.limits.max_sessions
                ));
            }
        }
        // Everyone goes, by `leave` or by a dropped socket.
        for conn in &self.conns {
            if rng.one_in(2) {
                conn.do_send(Deliver(r#"{"type":"leave"}"#.into()));
                let _ = conn.send(Settle).await;
            }
            conn.do_send(DropSocket);
        }
        let cleared = self.relay.cleared().await;
        report.inputs += delivered;
        let world = self.world.borrow();
        for (kind, n) in &world.kinds {
            *report.kinds.entry(kind.clone()).or_default() += n;
        }
        for f in &world.failures {
            report.fail(f.clone());
        }
        cleared
    }

    /// The relay goes down (every session told, every socket closed) and a new one with the
    /// same secret comes up; the old one must have cleared.
    async fn restart(&mut self) -> Result<(), String> {
        let _ = self.relay.registry.send(ShutdownAll).await;
        self.relay
            .cleared()
            .await
            .map_err(|e| format!("at a restart: {e}"))?;
        self.relay = Relay::start(&self.limits);
        for conn in &self.conns {
            conn.do_send(DropSocket);
        }
        self.world.borrow_mut().saw("restarts".into());
        Ok(())
    }

    /// A client frame: a seed frame with its placeholders filled, often mutated; sometimes a
    /// plain resume with this client's own token.
    fn frame(&self, rng: &mut Rng, slot: usize) -> String {
        let world = self.world.borrow();
        if rng.one_in(8) {
            if let Some(token) = world.slot_tokens.get(&slot) {
                return format!(r#"{{"type":"resume","token":"{token}"}}"#);
            }
        }
        if rng.one_in(10) {
            // The everyday path: a resumable guest joining a live session.
            if let Some(code) = world.codes.last() {
                return format!(
                    r#"{{"type":"join_guest","code":"{code}","guest_name":"G{slot}","capabilities":["resume"]}}"#
                );
            }
            return r#"{"type":"create","capabilities":["resume"]}"#.into();
        }
        let seed = rng.pick(&corpus().frames).clone();
        let filled = fill(rng, &world, &seed);
        drop(world);
        let filled = without_most_passwords(rng, filled);
        match rng.below(10) {
            0..=1 => mutate_json(rng, &filled),
            2 => mutate_text(rng, &filled),
            _ => filled,
        }
    }
}

/// `{code:…}`, `{id:…}`, `{token:…}`, `{seq:…}` (quoted or not) replaced by a live value, a
/// stale one or junk.
fn fill(rng: &mut Rng, world: &World, template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inside = &rest[start + 1..start + len];
        let placeholder = inside.split_once(':').filter(|(what, name)| {
            !what.is_empty()
                && !name.is_empty()
                && (what.chars().chain(name.chars()))
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
        let Some((what, _)) = placeholder else {
            out.push_str(&rest[..=start]);
            rest = &rest[start + 1..];
            continue;
        };
        let known: &[String] = match what {
            "code" => &world.codes,
            "id" => &world.user_ids,
            "token" => &world.tokens,
            _ => &[],
        };
        let value = if what == "seq" {
            match world.seqs.last() {
                Some(seq) if !rng.one_in(4) => seq.saturating_sub(rng.below(3) as u64).to_string(),
                _ => awkward_value(rng).to_string(),
            }
        } else if !known.is_empty() && !rng.one_in(6) {
            let live = rng.pick(known).clone();
            match rng.below(12) {
                0 => live.to_lowercase(),
                1 => format!("{live}x"),
                2 => live.chars().rev().collect(),
                _ => live,
            }
        } else {
            match awkward_value(rng) {
                Value::String(s) => s,
                other => other.to_string(),
            }
        };
        out.push_str(&rest[..start]);
        // Inside quotes the value is a string; `"{seq:x}"` stands for a number.
        let quoted_number = what == "seq" && out.ends_with('"');
        if quoted_number {
            out.pop();
            out.push_str(&value);
            rest = rest[start + len + 1..]
                .strip_prefix('"')
                .unwrap_or(&rest[start + len + 1..]);
        } else {
            out.push_str(&json_string_body(&value));
            rest = &rest[start + len + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// `value` escaped to sit between quotes.
fn json_string_body(value: &str) -> String {
    let quoted = Value::String(value.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// Passwords cost an argon2 hash or check (milliseconds each): most frames lose theirs.
fn without_most_passwords(rng: &mut Rng, frame: String) -> String {
    if !frame.contains("\"password\"") || rng.one_in(40) {
        return frame;
    }
    match serde_json::from_str::<Value>(&frame) {
        Ok(Value::Object(mut o)) => {
            o.remove("password");
            Value::Object(o).to_string()
        }
        _ => frame,
    }
}

/// Runs one scripted episode, for the AFL++ target: one step per line, `<slot digit><frame>`
/// delivers the frame from that client, `<slot digit>` alone drops its socket; placeholders are
/// filled as in the seeded run. `Err` names the broken invariant.
pub fn run_script(script: &str) -> Result<(), String> {
    crate::report::count_panics();
    let panics = panics_so_far();
    let outcome = System::new().block_on(async move {
        let mut rng = Rng::new(0);
        let mut episode = Episode::with_limits(Limits {
            max_sessions: 2,
            max_participants: 3,
            grace_period: Duration::ZERO,
            heartbeat_interval: Duration::from_millis(2),
            ..Limits::default()
        });
        episode.conns = (0..4).map(|s| episode.connect(s)).collect();
        for line in script.lines().take(200) {
            let mut chars = line.chars();
            let Some(slot) = chars.next().and_then(|c| c.to_digit(4)) else {
                continue;
            };
            let slot = slot as usize;
            if !episode.conns[slot].connected() {
                episode.conns[slot] = episode.connect(slot);
            }
            let text = chars.as_str();
            if text.is_empty() {
                episode.conns[slot].do_send(DropSocket);
            } else {
                let filled = fill(&mut rng, &episode.world.borrow(), text);
                episode.conns[slot].do_send(Deliver(filled));
            }
            let _ = episode.conns[slot].send(Settle).await;
        }
        for conn in &episode.conns {
            conn.do_send(DropSocket);
        }
        episode.relay.cleared().await?;
        let first_failure = episode.world.borrow().failures.first().cloned();
        first_failure.map_or(Ok(()), Err)
    });
    if panics_so_far() > panics {
        return Err(format!("panic: {}", crate::report::last_panic()));
    }
    outcome
}
