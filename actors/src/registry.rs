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
//! A session runs on the arbiter of the connection that created (or restored) it, so its host's
//! frames reach it without a thread hop, or on a dedicated pool of arbiters when one is handed in
//! at start; either way never on the registry's, so one busy session never delays it. A session
//! tells the registry when it stops, and its code is free at that moment.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::future::join_all;
use serde_json::Value;

use crate::code::SessionCode;
use crate::core::Core;
use crate::familiar::{clean_name, Familiar};
use crate::ids::{SessionId, SessionKey, UserId};
use crate::metrics::Metrics;
use crate::outbound::Conn;
use crate::password;
use crate::protocol::{PublicSession, Role};
use crate::session::{
    Admit, Entry, GetPublic, JoinError, Joined, Restored, Session, SessionInit, SessionStopped,
    Shutdown,
};
use crate::throttle::MinuteWindow;
use crate::token::TokenError;

/// How long an ended session's code is remembered, so a late resume hears "not found" rather
/// than "retry shortly".
const ENDED_MEMORY: Duration = Duration::from_secs(600);

/// How long a guest that resumes before its host is told to wait before retrying.
pub const HOST_NOT_BACK_RETRY_MS: u64 = 1000;

/// A live session as the registry files it.
struct Filed {
    /// Tells this actor from a restored successor under the same code.
    key: SessionKey,
    /// What a resume token must name to reach it.
    id: SessionId,
    addr: Addr<Session>,
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
    /// Failed joins and resumes per client IP this minute, against code guessing.
    failures: HashMap<IpAddr, MinuteWindow>,
    /// Codes of sessions that ended for good, so a late resume is "not found", never restored.
    ended: HashMap<SessionCode, Instant>,
    /// Set by [`ShutdownAll`]: no new sessions from then on.
    shutting_down: bool,
}

/// What a connection asks for.
pub enum Request {
    /// `create`: a new session with the sender as its host.
    Create {
        name: Option<String>,
        username: Option<String>,
        password: Option<String>,
        familiar: Option<Value>,
        /// The host declared the `resume` capability.
        resumable: bool,
    },
    /// `join` / `join_guest`: the session with this code, in this role.
    Join {
        code: SessionCode,
        role: Role,
        username: Option<String>,
        password: Option<String>,
        familiar: Option<Value>,
        /// The joiner declared the `resume` capability.
        resumable: bool,
    },
    /// `resume`: back into the session the token names, recreating it for its host.
    Resume {
        token: String,
        last_seq: Option<u64>,
    },
}

impl Request {
    /// The wire type, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Create { .. } => "create",
            Request::Join { .. } => "join",
            Request::Resume { .. } => "resume",
        }
    }
}

/// A create, join or resume: the one message a connection sends the registry.
#[derive(Message)]
#[rtype(result = "Result<Membership, JoinError>")]
pub struct Enter {
    pub conn: Conn,
    /// The arbiter the connection runs on: a new or restored session's home unless a dedicated
    /// pool is configured.
    pub home: ArbiterHandle,
    /// The client's address, for the failed-join throttle.
    pub ip: Option<IpAddr>,
    /// When the frame arrived, for the join latency histogram.
    pub received: Instant,
    pub request: Request,
}

/// A connection's place in a session, once admitted.
#[derive(Debug, Clone)]
pub struct Membership {
    pub key: SessionKey,
    pub session: Addr<Session>,
    pub user_id: UserId,
}

type Answer = ResponseActFuture<Registry, Result<Membership, JoinError>>;

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
            ended: HashMap::new(),
            shutting_down: false,
        }
    }

    fn pick_arbiter(&mut self, home: &ArbiterHandle) -> ArbiterHandle {
        if self.arbiters.is_empty() {
            return home.clone();
        }
        self.next_arbiter = (self.next_arbiter + 1) % self.arbiters.len();
        self.arbiters[self.next_arbiter].clone()
    }

    fn at_capacity(&self) -> bool {
        self.shutting_down || self.sessions.len() + self.pending >= self.core.limits.max_sessions
    }

    fn fresh_code(&self) -> SessionCode {
        loop {
            let code = SessionCode::generate();
            if !self.sessions.contains_key(&code) && !self.ended.contains_key(&code) {
                return code;
            }
        }
    }

    fn start_session(
        &mut self,
        init: SessionInit,
        home: &ArbiterHandle,
        ctx: &mut Context<Self>,
    ) -> Addr<Session> {
        let code = init.code.clone();
        let session = Session::new(init, ctx.address().recipient(), self.core.clone());
        let key = session.key();
        let id = session.id().clone();
        let addr = Session::start_in_arbiter(&self.pick_arbiter(home), move |_| session);
        self.core.metrics.sessions_created.inc();
        self.sessions.insert(
            code,
            Filed {
                key,
                id,
                addr: addr.clone(),
            },
        );
        addr
    }

    /// `Some(retry_after_ms)` when `ip` has failed too many joins this minute.
    fn throttled(&mut self, ip: Option<IpAddr>) -> Option<u64> {
        let limit = self.core.limits.join_failures_per_minute;
        ip.and_then(|ip| self.failures.get_mut(&ip))
            .and_then(|w| w.blocked(limit))
    }

    fn record_failure(&mut self, ip: Option<IpAddr>) {
        if let Some(ip) = ip {
            self.failures.entry(ip).or_default().record();
        }
    }

    /// Forwards `admit` to `session` and answers with the membership it grants.
    fn admit(&self, session: Addr<Session>, admit: Admit) -> Answer {
        // `send` queues at once, so a session's first admission is the host's.
        let answer = session.send(admit);
        Box::pin(
            async move {
                let joined: Joined = answer.await.unwrap_or(Err(JoinError::NotFound))?;
                Ok(Membership {
                    key: joined.key,
                    session,
                    user_id: joined.user_id,
                })
            }
            .into_actor(self),
        )
    }

    fn create(&mut self, conn: Conn, home: ArbiterHandle, request: Request) -> Answer {
        let Request::Create {
            name,
            username,
            password,
            familiar,
            resumable,
        } = request
        else {
            return Box::pin(fut::ready(Err(JoinError::NotFound)));
        };
        let limits = &self.core.limits;
        if self.at_capacity() {
            return Box::pin(fut::ready(Err(JoinError::ServerFull(limits.max_sessions))));
        }
        let password = password.filter(|p| !p.is_empty());
        if password
            .as_ref()
            .is_some_and(|p| p.len() > limits.max_password_bytes)
        {
            return Box::pin(fut::ready(Err(JoinError::PasswordTooLong)));
        }
        self.pending += 1;
        let hashed = async move {
            match password {
                Some(p) => password::hash_off_thread(p).await,
                None => None,
            }
        };
        Box::pin(
            hashed
                .into_actor(self)
                .then(move |password_hash, act, ctx| -> Answer {
                    act.pending -= 1;
                    if act.shutting_down {
                        let cap = act.core.limits.max_sessions;
                        return Box::pin(fut::ready(Err(JoinError::ServerFull(cap))));
                    }
                    let limits = &act.core.limits;
                    let name = clean_name(
                        name.as_deref(),
                        limits.max_session_name_chars,
                        "Listening Session",
                    );
                    let username = clean_name(username.as_deref(), limits.max_name_chars, "Host");
                    let familiar = Familiar::sanitize(familiar.as_ref(), &username);
                    let init = SessionInit {
                        code: act.fresh_code(),
                        name,
                        password_hash,
                        restored: None,
                    };
                    log::info!("session {} created", init.code.short());
                    let session = act.start_session(init, &home, ctx);
                    let entry = Entry::Create {
                        username,
                        familiar,
                        resumable,
                    };
                    act.admit(session, Admit { conn, entry })
                }),
        )
    }

    fn join(&mut self, conn: Conn, ip: Option<IpAddr>, request: Request) -> Answer {
        let Request::Join {
            code,
            role,
            username,
            password,
            familiar,
            resumable,
        } = request
        else {
            return Box::pin(fut::ready(Err(JoinError::NotFound)));
        };
        if let Some(retry_after_ms) = self.throttled(ip) {
            return Box::pin(fut::ready(Err(JoinError::Throttled { retry_after_ms })));
        }
        let session = match self.sessions.get(&code) {
            Some(filed) if filed.addr.connected() => filed.addr.clone(),
            _ => {
                self.record_failure(ip);
                return Box::pin(fut::ready(Err(JoinError::NotFound)));
            }
        };
        let entry = Entry::Join {
            role,
            username,
            password,
            familiar,
            resumable,
        };
        self.admit(session, Admit { conn, entry })
    }

    fn resume(
        &mut self,
        conn: Conn,
        home: ArbiterHandle,
        ip: Option<IpAddr>,
        request: Request,
        ctx: &mut Context<Self>,
    ) -> Answer {
        let Request::Resume { token, last_seq } = request else {
            return Box::pin(fut::ready(Err(JoinError::NotFound)));
        };
        if let Some(retry_after_ms) = self.throttled(ip) {
            return Box::pin(fut::ready(Err(JoinError::Throttled { retry_after_ms })));
        }
        let claims = match self.core.tokens.verify(&token) {
            Ok(claims) => claims,
            Err(e) => {
                self.record_failure(ip);
                return Box::pin(fut::ready(Err(match e {
                    TokenError::Invalid => JoinError::InvalidToken,
                    TokenError::Expired => JoinError::TokenExpired,
                })));
            }
        };
        let code = claims.code.clone();
        let existing = self
            .sessions
            .get(&code)
            .filter(|e| e.id == claims.session_id && e.addr.connected())
            .map(|e| e.addr.clone());
        if let Some(session) = existing {
            let entry = Entry::Resume { claims, last_seq };
            return self.admit(session, Admit { conn, entry });
        }
        if self.ended.contains_key(&code) || self.sessions.contains_key(&code) {
            // Ended for good, or the code now belongs to another session.
            return Box::pin(fut::ready(Err(JoinError::NotFound)));
        }
        let host = match (claims.role, &claims.host) {
            (Role::Host, Some(_)) if self.at_capacity() => {
                let cap = self.core.limits.max_sessions;
                return Box::pin(fut::ready(Err(JoinError::ServerFull(cap))));
            }
            (Role::Host, Some(host)) => host.clone(),
            _ => {
                return Box::pin(fut::ready(Err(JoinError::HostNotBack {
                    retry_after_ms: HOST_NOT_BACK_RETRY_MS,
                })))
            }
        };
        let init = SessionInit {
            code: code.clone(),
            name: host.name,
            password_hash: host.password_hash,
            restored: Some(Restored {
                session_id: claims.session_id.clone(),
                created_at: host.created_at,
                kicked: host.kicked,
            }),
        };
        let session = self.start_session(init, &home, ctx);
        log::info!("session {} restored by its host", code.short());
        let entry = Entry::Restore { claims };
        self.admit(session, Admit { conn, entry })
    }

    /// What a finished create, join or resume leaves behind: the metrics, and a wrong password
    /// counted against the client's IP.
    fn record(
        &mut self,
        kind: &'static str,
        ip: Option<IpAddr>,
        received: Instant,
        result: &Result<Membership, JoinError>,
    ) {
        let metrics = &self.core.metrics;
        let counter = match kind {
            "join" => &metrics.joins,
            "resume" => &metrics.resumes,
            _ => return,
        };
        match result {
            Ok(_) if kind == "join" => {
                Metrics::inc(counter, "outcome", "joined");
                metrics
                    .join_seconds
                    .observe(received.elapsed().as_secs_f64());
            }
            Ok(_) => Metrics::inc(counter, "outcome", "resumed"),
            Err(e) => {
                Metrics::inc(counter, "outcome", e.outcome());
                if *e == JoinError::WrongPassword {
                    self.record_failure(ip);
                }
            }
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

impl Handler<Enter> for Registry {
    type Result = ResponseActFuture<Self, Result<Membership, JoinError>>;

    fn handle(&mut self, msg: Enter, ctx: &mut Context<Self>) -> Self::Result {
        let Enter {
            conn,
            home,
            ip,
            received,
            request,
        } = msg;
        let kind = request.kind();
        let answer = match request {
            Request::Create { .. } => self.create(conn, home, request),
            Request::Join { .. } => self.join(conn, ip, request),
            Request::Resume { .. } => self.resume(conn, home, ip, request, ctx),
        };
        Box::pin(answer.map(move |result, act, _| {
            act.record(kind, ip, received, &result);
            result
        }))
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
            self.sessions.remove(&msg.code);
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
