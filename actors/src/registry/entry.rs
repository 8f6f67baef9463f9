//! The one route every create, join and resume takes: [`Enter`] in, the registry finds or
//! starts the session and forwards an [`Admit`] to it, records the outcome, and answers
//! `Result<Membership, JoinError>`.

use std::net::IpAddr;
use std::time::Instant;

use actix::prelude::*;
use serde_json::Value;

use super::{Registry, HOST_NOT_BACK_RETRY_MS};
use crate::address::address_key;
use crate::code::SessionCode;
use crate::familiar::{clean_name, Familiar};
use crate::ids::{SessionKey, UserId};
use crate::metrics::Metrics;
use crate::outbound::Conn;
use crate::password;
use crate::protocol::Role;
use crate::session::{Admit, Entry, JoinError, Joined, Restored, Session, SessionInit};
use crate::token::TokenError;

/// What a connection asks for.
pub enum Request {
    Create(CreateRequest),
    Join(JoinRequest),
    Resume(ResumeRequest),
}

/// `create`: a new session with the sender as its host.
pub struct CreateRequest {
    pub name: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub familiar: Option<Value>,
    /// The host declared the `resume` capability.
    pub resumable: bool,
}

/// `join` / `join_guest`: the session with this code, in this role.
pub struct JoinRequest {
    pub code: SessionCode,
    pub role: Role,
    pub username: Option<String>,
    pub password: Option<String>,
    pub familiar: Option<Value>,
    /// The joiner declared the `resume` capability.
    pub resumable: bool,
}

/// `resume`: back into the session the token names, recreating it for its host.
pub struct ResumeRequest {
    pub token: String,
    /// The highest `seq` the client saw; what came after it is replayed.
    pub last_seq: Option<u64>,
}

impl Request {
    /// The wire type, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Create(_) => "create",
            Request::Join(_) => "join",
            Request::Resume(_) => "resume",
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
    /// The client's address, for the failed-join throttle and the sessions-per-address cap.
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
    /// The member is the session's host.
    pub host: bool,
}

type Answer = ResponseActFuture<Registry, Result<Membership, JoinError>>;

impl Registry {
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
                    host: joined.host,
                })
            }
            .into_actor(self),
        )
    }

    fn create(
        &mut self,
        conn: Conn,
        home: ArbiterHandle,
        ip: Option<IpAddr>,
        request: CreateRequest,
    ) -> Answer {
        let CreateRequest {
            name,
            username,
            password,
            familiar,
            resumable,
        } = request;
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
        let address = ip.map(address_key);
        if let Err(cap) = self.hosts_too_many(address) {
            Metrics::inc(&self.core.metrics.refused, "reason", "sessions_per_ip");
            return Box::pin(fut::ready(Err(JoinError::TooManySessions(cap))));
        }
        // Counted from now, while the password hashes, so a burst of creates cannot pass the cap.
        self.host_from(address);
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
                        act.host_gone(address);
                        return Box::pin(fut::ready(Err(JoinError::Restarting)));
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
                    let session = act.start_session(init, address, &home, ctx);
                    let entry = Entry::Create {
                        username,
                        familiar,
                        resumable,
                    };
                    act.admit(session, Admit { conn, entry })
                }),
        )
    }

    fn join(&mut self, conn: Conn, ip: Option<IpAddr>, request: JoinRequest) -> Answer {
        let JoinRequest {
            code,
            role,
            username,
            password,
            familiar,
            resumable,
        } = request;
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
        request: ResumeRequest,
        ctx: &mut Context<Self>,
    ) -> Answer {
        let ResumeRequest { token, last_seq } = request;
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
        // Counted, never refused: the session existed before the restart.
        let address = ip.map(address_key);
        self.host_from(address);
        let session = self.start_session(init, address, &home, ctx);
        log::info!("session {} restored by its host", code.short());
        let entry = Entry::Restore { claims, last_seq };
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
        if self.shutting_down {
            return Box::pin(fut::ready(Err(JoinError::Restarting)));
        }
        let answer = match request {
            Request::Create(create) => self.create(conn, home, ip, create),
            Request::Join(join) => self.join(conn, ip, join),
            Request::Resume(resume) => self.resume(conn, home, ip, resume, ctx),
        };
        Box::pin(answer.map(move |result, act, _| {
            act.record(kind, ip, received, &result);
            result
        }))
    }
}
