//! The registry actor: supervises sessions. It maps codes to session actors, enforces the
//! session cap, generates codes, answers `by-code` lookups, throttles failed joins per client IP,
//! and recreates a session when its host resumes after a relay restart.
//!
//! Create, join and resume take one route: the connection sends one [`Enter`]; the registry
//! finds (or starts) the session, forwards an [`Admit`] to it, records the outcome (metrics, the
//! IP's failures) and answers `Result<Membership, JoinError>`. The session sends the welcome
//! itself, so it precedes every broadcast about the newcomer. After that every message goes from
//! the connection to its session directly; the registry is never on the path of a relayed frame.
//!
//! The route itself is in [`entry`].
//!
//! One client address (see [`crate::address`]) hosts at most `max_sessions_per_ip` sessions, so
//! no one address can take the whole session cap; a host restoring its session after a restart
//! is counted but never refused for it (the session existed; refusing would end it).
//!
//! A session runs on the arbiter of the connection that created (or restored) it, so its host's
//! frames reach it without a thread hop, or on a dedicated pool of arbiters when one is handed in
//! at start; either way never on the registry's, so one busy session never delays it. A session
//! tells the registry when it stops, and its code is free at that moment.

mod entry;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::future::join_all;

use crate::address::address_key;
use crate::code::SessionCode;
use crate::core::Core;
use crate::ids::{SessionId, SessionKey};
use crate::protocol::PublicSession;
use crate::session::{GetPublic, Session, SessionInit, SessionStopped, Shutdown};
use crate::throttle::MinuteWindow;

/// How long an ended session's code is remembered, so a late resume hears "not found" rather
/// than "retry shortly".
const ENDED_MEMORY: Duration = Duration::from_secs(600);

/// How long a guest that resumes before its host is told to wait before retrying. After a
/// restart hosts and guests come back spread over the same jitter window, so a guest early by
/// a fraction of it should not wait a whole second.
pub const HOST_NOT_BACK_RETRY_MS: u64 = 250;

/// A live session as the registry files it.
struct Filed {
    /// Tells this actor from a restored successor under the same code.
    key: SessionKey,
    /// What a resume token must name to reach it.
    id: SessionId,
    addr: Addr<Session>,
    /// The address key of the host that created (or restored) it, for the per-address cap.
    host_address: Option<IpAddr>,
}

/// The registry actor.
pub struct Registry {
    /// Limits, ICE, metrics and the token signer, shared with every session.
    core: Arc<Core>,
    /// Every live session by code.
    sessions: HashMap<SessionCode, Filed>,
    /// Creates waiting for their password hash; they count against the cap.
    pending: usize,
    /// Dedicated session arbiters (`SESSION_THREADS`); empty: sessions live on their host's.
    arbiters: Vec<ArbiterHandle>,
    /// Round-robin position in `arbiters`.
    next_arbiter: usize,
    /// Failed joins and resumes per client address this minute, against code guessing.
    failures: HashMap<IpAddr, MinuteWindow>,
    /// Sessions (and creates waiting for their hash) per host address; no zero entries.
    hosted: HashMap<IpAddr, usize>,
    /// Codes of sessions that ended for good, so a late resume is "not found", never restored.
    ended: HashMap<SessionCode, Instant>,
    /// Set by [`ShutdownAll`]: no new sessions from then on.
    shutting_down: bool,
    /// Put before every new code: empty on a single machine, the machine's tag in a cluster.
    code_prefix: String,
}

pub use entry::{CreateRequest, Enter, JoinRequest, Membership, Request, ResumeRequest};

impl Registry {
    /// A registry that starts sessions round-robin on `arbiters`, or, when that is empty, on the
    /// arbiter of the connection that creates them.
    pub fn new(core: Arc<Core>, arbiters: Vec<ArbiterHandle>) -> Self {
        Registry {
            core,
            sessions: HashMap::new(),
            pending: 0,
            arbiters,
            next_arbiter: 0,
            failures: HashMap::new(),
            hosted: HashMap::new(),
            ended: HashMap::new(),
            shutting_down: false,
            code_prefix: String::new(),
        }
    }

    /// New codes start with `prefix` (a cluster machine's tag, see `src/cluster`).
    pub fn with_code_prefix(mut self, prefix: &str) -> Self {
        self.code_prefix = prefix.to_string();
        self
    }

    fn pick_arbiter(&mut self, home: &ArbiterHandle) -> ArbiterHandle {
        if self.arbiters.is_empty() {
            return home.clone();
        }
        self.next_arbiter = (self.next_arbiter + 1) % self.arbiters.len();
        self.arbiters[self.next_arbiter].clone()
    }

    fn at_capacity(&self) -> bool {
        self.sessions.len() + self.pending >= self.core.limits.max_sessions
    }

    fn fresh_code(&self) -> SessionCode {
        loop {
            let code = SessionCode::generate_after(&self.code_prefix);
            if !self.sessions.contains_key(&code) && !self.ended.contains_key(&code) {
                return code;
            }
        }
    }

    /// `Err(cap)` when `address` already hosts its share of the session cap.
    fn hosts_too_many(&self, address: Option<IpAddr>) -> Result<(), usize> {
        let cap = self.core.limits.max_sessions_per_ip;
        match address.and_then(|a| self.hosted.get(&a)) {
            Some(&hosted) if cap > 0 && hosted >= cap => Err(cap),
            _ => Ok(()),
        }
    }

    /// Counts one more session (or pending create) for `address`.
    fn host_from(&mut self, address: Option<IpAddr>) {
        if let Some(address) = address {
            *self.hosted.entry(address).or_default() += 1;
        }
    }

    /// Counts one session (or pending create) of `address` gone.
    fn host_gone(&mut self, address: Option<IpAddr>) {
        let Some(address) = address else { return };
        if let Some(hosted) = self.hosted.get_mut(&address) {
            *hosted = hosted.saturating_sub(1);
            if *hosted == 0 {
                self.hosted.remove(&address);
            }
        }
    }

    /// Starts and files a session; `host_address` must already be counted by [`Self::host_from`].
    fn start_session(
        &mut self,
        init: SessionInit,
        host_address: Option<IpAddr>,
        home: &ArbiterHandle,
        ctx: &mut Context<Self>,
    ) -> Addr<Session> {
        let code = init.code.clone();
        let session = Session::new(init, ctx.address().recipient(), self.core.clone());
        let key = session.key();
        let id = session.id().clone();
        let addr = Session::start_in_arbiter(&self.pick_arbiter(home), move |_| session);
        self.core.metrics.sessions_created.inc();
        let replaced = self.sessions.insert(
            code,
            Filed {
                key,
                id,
                addr: addr.clone(),
                host_address,
            },
        );
        if let Some(replaced) = replaced {
            self.host_gone(replaced.host_address);
        }
        addr
    }

    /// `Some(retry_after_ms)` when `ip` has failed too many joins this minute.
    fn throttled(&mut self, ip: Option<IpAddr>) -> Option<u64> {
        let limit = self.core.limits.join_failures_per_minute;
        ip.and_then(|ip| self.failures.get_mut(&address_key(ip)))
            .and_then(|w| w.blocked(limit))
    }

    fn record_failure(&mut self, ip: Option<IpAddr>) {
        if let Some(ip) = ip {
            self.failures.entry(address_key(ip)).or_default().record();
        }
    }
}

impl Actor for Registry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Forget stale throttle windows and ended codes, so neither map grows without bound.
        ctx.run_interval(Duration::from_secs(60), |act, _| {
            let limit = act.core.limits.join_failures_per_minute;
            act.failures.retain(|_, w| w.blocked(limit).is_some());
            act.ended.retain(|_, at| at.elapsed() < ENDED_MEMORY);
        });
    }
}

/// The public face of a session for `GET /api/v1/sessions/by-code/{code}`.
#[derive(Message)]
#[rtype(result = "Option<PublicSession>")]
pub struct Lookup {
    pub code: SessionCode,
}

impl Handler<Lookup> for Registry {
    type Result = ResponseFuture<Option<PublicSession>>;

    fn handle(&mut self, msg: Lookup, _: &mut Context<Self>) -> Self::Result {
        let addr = self.sessions.get(&msg.code).map(|e| e.addr.clone());
        Box::pin(async move {
            match addr {
                Some(addr) => addr.send(GetPublic).await.ok(),
                None => None,
            }
        })
    }
}

impl Handler<SessionStopped> for Registry {
    type Result = ();

    fn handle(&mut self, msg: SessionStopped, _: &mut Context<Self>) {
        if self
            .sessions
            .get(&msg.code)
            .is_some_and(|e| e.key == msg.key)
        {
            if let Some(filed) = self.sessions.remove(&msg.code) {
                self.host_gone(filed.host_address);
            }
            if msg.ended {
                self.ended.insert(msg.code, Instant::now());
            }
        }
    }
}

/// Tells every session the relay is going down, and refuses new sessions from now on.
/// Resolves once every session has sent its notices.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct ShutdownAll;

impl Handler<ShutdownAll> for Registry {
    type Result = ResponseFuture<usize>;

    fn handle(&mut self, _: ShutdownAll, _: &mut Context<Self>) -> Self::Result {
        self.shutting_down = true;
        let sessions: Vec<Addr<Session>> = self.sessions.values().map(|e| e.addr.clone()).collect();
        let count = sessions.len();
        log::info!("shutdown: notifying {count} sessions");
        Box::pin(async move {
            join_all(sessions.iter().map(|s| s.send(Shutdown))).await;
            count
        })
    }
}

/// How many sessions are registered, for tests and invariants.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CountSessions;

impl Handler<CountSessions> for Registry {
    type Result = usize;

    fn handle(&mut self, _: CountSessions, _: &mut Context<Self>) -> usize {
        self.sessions.len()
    }
}

/// The public face of the session under `code` if it lives here and this relay is not shutting
/// down: what another cluster machine asks before it sends a client here.
#[derive(Message)]
#[rtype(result = "Option<PublicSession>")]
pub struct Holds {
    pub code: SessionCode,
}

impl Handler<Holds> for Registry {
    type Result = ResponseFuture<Option<PublicSession>>;

    fn handle(&mut self, msg: Holds, _: &mut Context<Self>) -> Self::Result {
        let addr = self
            .sessions
            .get(&msg.code)
            .filter(|_| !self.shutting_down)
            .map(|e| e.addr.clone());
        Box::pin(async move {
            match addr {
                Some(addr) => addr.send(GetPublic).await.ok(),
                None => None,
            }
        })
    }
}

/// Whether this relay still takes sessions (false once [`ShutdownAll`] ran): a draining cluster
/// machine is no place to send anyone.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Accepting;

impl Handler<Accepting> for Registry {
    type Result = bool;

    fn handle(&mut self, _: Accepting, _: &mut Context<Self>) -> bool {
        !self.shutting_down
    }
}
