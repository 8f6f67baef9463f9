//! The registry actor: supervises sessions. It maps codes to session actors, enforces the
//! session cap, generates codes, answers `by-code` lookups, throttles failed joins per client IP,
//! and recreates a session when its host resumes after a relay restart.
//!
//! It is asked only when a connection creates, joins or resumes; every message after that goes
//! from the connection to its session actor directly. A session runs on the arbiter of the
//! connection that created (or restored) it, so its host's frames reach it without a thread
//! hop, or on a dedicated pool of arbiters when one is handed in at start; either way never on
//! the registry's, so one busy session never delays it. A session tells the registry
//! when it stops, and its code is free at that moment.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::future::join_all;
use serde_json::Value;

use crate::code::SessionCode;
use crate::familiar::{clean_name, Familiar};
use crate::password;
use crate::protocol::{PublicSession, Role};
use crate::session::{
    Conn, Core, GetPublic, JoinError, Joined, MinuteWindow, Restored, Resume, Session, SessionInit,
    SessionKey, SessionStopped, Shutdown,
};
use crate::token::TokenError;

/// How long an ended session's code is remembered, so a late resume hears "not found" rather
/// than "retry shortly".
const ENDED_MEMORY: Duration = Duration::from_secs(600);

/// How long a guest that resumes before its host is told to wait before retrying.
pub const HOST_NOT_BACK_RETRY_MS: u64 = 1000;

struct Entry {
    key: SessionKey,
    id: String,
    addr: Addr<Session>,
}

/// The registry actor.
pub struct Registry {
    core: Arc<Core>,
    sessions: HashMap<SessionCode, Entry>,
    /// Creates waiting for their password hash; they count against the cap.
    pending: usize,
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: usize,
    failures: HashMap<IpAddr, MinuteWindow>,
    ended: HashMap<SessionCode, Instant>,
    shutting_down: bool,
}

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
    ) -> Joined {
        let code = init.code.clone();
        let session = Session::new(init, ctx.address().recipient(), self.core.clone());
        let key = session.key();
        let id = session.id().to_string();
        let user_id = session.host_user_id().to_string();
        let addr = Session::start_in_arbiter(&self.pick_arbiter(home), move |_| session);
        self.core.metrics.sessions_created.inc();
        self.sessions.insert(code, Entry { key, id, addr });
        Joined { key, user_id }
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

/// A `create`: the sender becomes the host of a new session. The session itself sends
/// `session_created` to `conn` as its first act.
#[derive(Message)]
#[rtype(result = "Result<(Addr<Session>, Joined), JoinError>")]
pub struct Create {
    pub conn: Conn,
    /// The arbiter the host's connection runs on: the session's home unless a dedicated pool
    /// is configured.
    pub home: ArbiterHandle,
    pub name: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub familiar: Option<Value>,
    /// The host declared the `resume` capability.
    pub resumable: bool,
}

impl Handler<Create> for Registry {
    type Result = ResponseActFuture<Self, Result<(Addr<Session>, Joined), JoinError>>;

    fn handle(&mut self, msg: Create, _: &mut Context<Self>) -> Self::Result {
        let limits = &self.core.limits;
        if self.at_capacity() {
            return Box::pin(fut::ready(Err(JoinError::ServerFull(limits.max_sessions))));
        }
        let password = msg.password.clone().filter(|p| !p.is_empty());
        if password
            .as_ref()
            .is_some_and(|p| p.len() > limits.max_password_bytes)
        {
            return Box::pin(fut::ready(Err(JoinError::PasswordTooLong)));
        }
        self.pending += 1;
        Box::pin(
            async move {
                match password {
                    Some(p) => password::hash_off_thread(p).await,
                    None => None,
                }
            }
            .into_actor(self)
            .map(move |password_hash, act, ctx| {
                act.pending -= 1;
                if act.shutting_down {
                    return Err(JoinError::ServerFull(act.core.limits.max_sessions));
                }
                let limits = &act.core.limits;
                let name = clean_name(
                    msg.name.as_deref(),
                    limits.max_session_name_chars,
                    "Listening Session",
                );
                let username = clean_name(msg.username.as_deref(), limits.max_name_chars, "Host");
                let familiar = Familiar::sanitize(msg.familiar.as_ref(), &username);
                let init = SessionInit {
                    code: act.fresh_code(),
                    name,
                    password_hash,
                    host: msg.conn,
                    host_username: username,
                    host_familiar: familiar,
                    host_resumable: msg.resumable,
                    restored: None,
                };
                let code = init.code.clone();
                let joined = act.start_session(init, &msg.home, ctx);
                log::info!("session {} created", code.short());
                let addr = act.sessions[&code].addr.clone();
                Ok((addr, joined))
            }),
        )
    }
}

/// Finds the session for a `join`, refusing clients that failed too often.
#[derive(Message)]
#[rtype(result = "Result<Addr<Session>, JoinError>")]
pub struct Find {
    pub code: SessionCode,
    pub ip: Option<IpAddr>,
}

impl Handler<Find> for Registry {
    type Result = Result<Addr<Session>, JoinError>;

    fn handle(&mut self, msg: Find, _: &mut Context<Self>) -> Self::Result {
        if let Some(retry_after_ms) = self.throttled(msg.ip) {
            return Err(JoinError::Throttled { retry_after_ms });
        }
        match self.sessions.get(&msg.code) {
            Some(entry) if entry.addr.connected() => Ok(entry.addr.clone()),
            _ => {
                self.record_failure(msg.ip);
                Err(JoinError::NotFound)
            }
        }
    }
}

/// A join failed for a reason the session saw (a wrong password): count it for the IP.
#[derive(Message)]
#[rtype(result = "()")]
pub struct JoinFailed {
    pub ip: Option<IpAddr>,
}

impl Handler<JoinFailed> for Registry {
    type Result = ();

    fn handle(&mut self, msg: JoinFailed, _: &mut Context<Self>) {
        self.record_failure(msg.ip);
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

/// A `resume {token}`: puts the holder back into its session, recreating the session when the
/// holder is its host and the relay restarted since.
#[derive(Message)]
#[rtype(result = "Result<(Addr<Session>, Joined), JoinError>")]
pub struct ResumeRequest {
    pub conn: Conn,
    /// The arbiter the resuming connection runs on: a restored session's home unless a
    /// dedicated pool is configured.
    pub home: ArbiterHandle,
    pub token: String,
    pub last_seq: Option<u64>,
    pub ip: Option<IpAddr>,
}

impl Handler<ResumeRequest> for Registry {
    type Result = ResponseActFuture<Self, Result<(Addr<Session>, Joined), JoinError>>;

    fn handle(&mut self, msg: ResumeRequest, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(retry_after_ms) = self.throttled(msg.ip) {
            return Box::pin(fut::ready(Err(JoinError::Throttled { retry_after_ms })));
        }
        let claims = match self.core.tokens.verify(&msg.token) {
            Ok(claims) => claims,
            Err(e) => {
                self.record_failure(msg.ip);
                return Box::pin(fut::ready(Err(match e {
                    TokenError::Invalid => JoinError::InvalidToken,
                    TokenError::Expired => JoinError::TokenExpired,
                })));
            }
        };
        let code = SessionCode::parse(&claims.code);
        let existing = self
            .sessions
            .get(&code)
            .filter(|e| e.id == claims.session_id && e.addr.connected())
            .map(|e| e.addr.clone());
        if let Some(addr) = existing {
            let resume = Resume {
                conn: msg.conn,
                claims,
                last_seq: msg.last_seq,
            };
            return Box::pin(
                async move {
                    match addr.send(resume).await {
                        Ok(Ok(joined)) => Ok((addr, joined)),
                        Ok(Err(e)) => Err(e),
                        Err(_) => Err(JoinError::NotFound),
                    }
                }
                .into_actor(self),
            );
        }
        let result = if self.ended.contains_key(&code) || self.sessions.contains_key(&code) {
            // Ended for good, or the code now belongs to another session.
            Err(JoinError::NotFound)
        } else {
            match (claims.role, claims.host) {
                (Role::Host, Some(host)) if self.at_capacity() => {
                    drop(host);
                    Err(JoinError::ServerFull(self.core.limits.max_sessions))
                }
                (Role::Host, Some(host)) => {
                    let init = SessionInit {
                        code: code.clone(),
                        name: host.name,
                        password_hash: host.password_hash,
                        host: msg.conn,
                        host_username: claims.username,
                        host_familiar: claims.familiar,
                        host_resumable: true,
                        restored: Some(Restored {
                            session_id: claims.session_id,
                            host_user_id: claims.user_id,
                            created_at: host.created_at,
                            kicked: host.kicked,
                            last_seq: msg.last_seq,
                        }),
                    };
                    let joined = self.start_session(init, &msg.home, ctx);
                    log::info!("session {} restored by its host", code.short());
                    Ok((self.sessions[&code].addr.clone(), joined))
                }
                _ => Err(JoinError::HostNotBack {
                    retry_after_ms: HOST_NOT_BACK_RETRY_MS,
                }),
            }
        };
        Box::pin(fut::ready(result))
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
