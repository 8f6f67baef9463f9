//! The connection actor: one per WebSocket, transport only. It decodes frames, enforces
//! frame-level limits (size, binary, rate, liveness), resolves its session through the registry
//! on `create` / `join` / `resume`, then sends straight to its session actor, and writes back
//! whatever the session sends it.
//!
//! Writes go straight into the socket's own small buffer when it has room (the common case: no
//! allocation, no extra task); when it is full the frame waits in a backlog drained in order.
//! A client that stops reading fills the backlog and is disconnected, never buffered without
//! bound.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use bytestring::ByteString;
use familiar_actors::code::SessionCode;
use familiar_actors::metrics::Metrics;
use familiar_actors::protocol::{
    parse_client_message, Capabilities, ClientMessage, ErrorCode, JoinFields, ParseError, Role,
    ServerMessage,
};
use familiar_actors::registry::{Create, Find, JoinFailed, ResumeRequest};
use familiar_actors::session::{
    Command, Conn, ConnId, Disconnected, Join, JoinError, Joined, Leave, Outbound, Session,
    SessionKey,
};
use futures_util::FutureExt;

use crate::config::Rate;
use crate::server::AppState;

/// Rate-limited messages are counted over this window to spot a sustained flood.
const FLOOD_WINDOW: Duration = Duration::from_secs(10);

/// One frame to send on the socket.
#[derive(Clone)]
enum Write {
    Text(ByteString),
    Ping,
    Pong(bytes::Bytes),
    Close(CloseReason),
}

/// The session this connection is a member of.
struct Membership {
    key: SessionKey,
    session: Addr<Session>,
}

/// A token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn full(rate: &Rate) -> Self {
        Bucket {
            tokens: rate.burst,
            last: Instant::now(),
        }
    }

    /// Takes one token, or says in how many milliseconds one will be there.
    fn take(&mut self, rate: &Rate) -> Result<(), u64> {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * rate.per_sec;
        self.tokens = (self.tokens + refill).min(rate.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if rate.per_sec > 0.0 {
            Err((((1.0 - self.tokens) / rate.per_sec) * 1000.0).ceil() as u64)
        } else {
            Err(60_000)
        }
    }
}

/// Which rate class a message belongs to: 0 chat, 1 signaling, 2 everything else.
fn rate_class(msg: &ClientMessage) -> usize {
    match msg {
        ClientMessage::Chat { .. } | ClientMessage::Reaction { .. } => 0,
        ClientMessage::WebrtcRequest {}
        | ClientMessage::WebrtcOffer { .. }
        | ClientMessage::WebrtcAnswer { .. }
        | ClientMessage::WebrtcIce { .. }
        | ClientMessage::WebrtcConnected { .. } => 1,
        _ => 2,
    }
}

/// The connection actor.
pub struct Connection {
    id: ConnId,
    state: Arc<AppState>,
    ip: Option<IpAddr>,
    /// The socket's sink; `None` once a close frame went out.
    ws: Option<actix_ws::Session>,
    /// Frames waiting for room in the socket's buffer, oldest first.
    backlog: VecDeque<Write>,
    /// A backlog drain is under way: new frames queue behind it to keep the order.
    draining: bool,
    membership: Option<Membership>,
    last_heard: Instant,
    buckets: [Bucket; 3],
    strikes: u32,
    strikes_since: Instant,
    /// Set once a close has been queued: further frames from the client are ignored.
    closing: bool,
    /// Why the socket closed, for the metrics.
    close_reason: &'static str,
    /// The last session this connection was in ended (the host left).
    host_ended: bool,
}

impl Connection {
    /// Starts the actor for an upgraded socket.
    pub fn start(
        state: Arc<AppState>,
        ip: Option<IpAddr>,
        ws: actix_ws::Session,
        stream: actix_ws::MessageStream,
    ) {
        let rates = state.rates;
        let stream = stream
            .max_frame_size(state.config.max_frame_bytes)
            .aggregate_continuations()
            .max_continuation_size(state.config.max_frame_bytes);
        Connection::create(move |ctx| {
            ctx.add_stream(stream);
            Connection {
                id: ConnId::next(),
                state,
                ip,
                ws: Some(ws),
                backlog: VecDeque::new(),
                draining: false,
                membership: None,
                last_heard: Instant::now(),
                buckets: rates.each_ref().map(Bucket::full),
                strikes: 0,
                strikes_since: Instant::now(),
                closing: false,
                close_reason: "left",
                host_ended: false,
            }
        });
    }

    fn metrics(&self) -> &Metrics {
        &self.state.core.metrics
    }

    fn conn(&self, ctx: &Context<Self>) -> Conn {
        Conn {
            id: self.id,
            tx: ctx.address().recipient(),
        }
    }

    /// Sends a frame now if the socket's buffer has room, else queues it behind the others; a
    /// full backlog means the client stopped reading.
    fn write(&mut self, frame: Write, ctx: &mut Context<Self>) {
        let Some(ws) = self.ws.as_mut() else { return };
        if !self.draining {
            match send(ws, frame.clone()).now_or_never() {
                Some(Ok(())) => {
                    if matches!(frame, Write::Close(_)) {
                        self.ws = None;
                    }
                    return;
                }
                Some(Err(_)) => {
                    self.ws = None;
                    return ctx.stop();
                }
                None => {}
            }
        }
        if self.backlog.len() >= self.state.config.outbound_queue {
            if !self.closing {
                log::info!("connection {}: slow reader, disconnecting", self.id.0);
                self.close_reason = "slow_reader";
                self.closing = true;
            }
            self.backlog.clear();
            return ctx.stop();
        }
        self.backlog.push_back(frame);
        if !self.draining {
            self.draining = true;
            self.drain(ctx);
        }
    }

    /// Sends the oldest waiting frame, then the next, until the backlog is empty.
    fn drain(&mut self, ctx: &mut Context<Self>) {
        let (Some(frame), Some(mut ws)) = (self.backlog.pop_front(), self.ws.clone()) else {
            self.draining = false;
            self.backlog = VecDeque::new(); // Give a burst's memory back.
            return;
        };
        let closes = matches!(frame, Write::Close(_));
        ctx.spawn(
            async move { send(&mut ws, frame).await }
                .into_actor(self)
                .map(move |sent, act, ctx| match sent {
                    Ok(()) if !closes => act.drain(ctx),
                    _ => {
                        act.ws = None;
                        act.backlog.clear();
                        act.draining = false;
                        if !closes {
                            ctx.stop();
                        }
                    }
                }),
        );
    }

    fn write_out(&mut self, out: Outbound, ctx: &mut Context<Self>) {
        match out {
            Outbound::Frame(text) => self.write(Write::Text(text), ctx),
            Outbound::Close { code, reason } => self.close(
                code,
                reason,
                match code {
                    1000 => "kicked",
                    1012 => "shutdown",
                    _ => "replaced",
                },
                ctx,
            ),
            Outbound::Detached { key } => {
                if self.membership.as_ref().is_some_and(|m| m.key == key) {
                    self.membership = None;
                    self.host_ended = true;
                }
            }
        }
    }

    fn send_error(&mut self, code: ErrorCode, ctx: &mut Context<Self>) {
        let out = self.state.core.error(code);
        self.write_out(out, ctx);
    }

    /// Queues a close frame, then stops soon whether or not the client answers.
    fn close(
        &mut self,
        code: u16,
        description: &'static str,
        reason: &'static str,
        ctx: &mut Context<Self>,
    ) {
        if self.closing {
            return;
        }
        self.close_reason = reason;
        self.write(
            Write::Close(CloseReason {
                code: CloseCode::from(code),
                description: Some(description.to_string()),
            }),
            ctx,
        );
        self.closing = true;
        ctx.run_later(Duration::from_secs(2), |_, ctx| ctx.stop());
    }

    fn on_text(&mut self, text: ByteString, ctx: &mut Context<Self>) {
        let received = Instant::now();
        let msg = match parse_client_message(&text) {
            Ok(msg) => msg,
            Err(ParseError::UnknownType(kind)) => {
                log::debug!("connection {}: ignoring unknown type {kind:?}", self.id.0);
                return;
            }
            Err(e) => {
                let code = match e {
                    ParseError::BadJson => ErrorCode::BadJson,
                    ParseError::NotObject => ErrorCode::NotObject,
                    ParseError::MissingType => ErrorCode::MissingType,
                    _ => ErrorCode::InvalidMessage,
                };
                return self.send_error(code, ctx);
            }
        };
        let kind = msg.kind();
        Metrics::inc(&self.metrics().messages_in, "type", kind);
        let class = rate_class(&msg);
        let rate = self.state.rates[class];
        if let Err(retry_after_ms) = self.buckets[class].take(&rate) {
            return self.rate_limited(kind, retry_after_ms, ctx);
        }
        self.dispatch(msg, received, ctx);
    }

    fn rate_limited(&mut self, kind: &'static str, retry_after_ms: u64, ctx: &mut Context<Self>) {
        Metrics::inc(&self.metrics().rate_limited, "type", kind);
        if self.strikes_since.elapsed() > FLOOD_WINDOW {
            self.strikes = 0;
            self.strikes_since = Instant::now();
        }
        self.strikes += 1;
        if self.strikes > self.state.config.rate_flood_strikes {
            log::info!("connection {}: flooding, disconnecting", self.id.0);
            return self.close(1008, "rate limit exceeded", "flood", ctx);
        }
        let out = self
            .state
            .core
            .error_retry(ErrorCode::RateLimited, retry_after_ms);
        self.write_out(out, ctx);
    }

    fn dispatch(&mut self, msg: ClientMessage, received: Instant, ctx: &mut Context<Self>) {
        match msg {
            ClientMessage::Create {
                name,
                username,
                password,
                familiar,
                capabilities,
            } => {
                if self.membership.is_some() {
                    return self.send_error(ErrorCode::AlreadyInSession, ctx);
                }
                let create = Create {
                    conn: self.conn(ctx),
                    home: Arbiter::current(),
                    name,
                    username,
                    password,
                    familiar,
                    resumable: Capabilities::resume_of(capabilities),
                };
                let registry = self.state.registry.clone();
                let turn = self.state.turn.clone();
                let fut = async move {
                    turn.ready().await;
                    registry
                        .send(create)
                        .await
                        .unwrap_or(Err(JoinError::NotFound))
                };
                self.await_membership(fut, "create", received, ctx);
            }
            ClientMessage::Join(fields) => self.join(fields, Role::Listener, received, ctx),
            ClientMessage::JoinGuest(fields) => self.join(fields, Role::Guest, received, ctx),
            ClientMessage::Resume { token, last_seq } => {
                if self.membership.is_some() {
                    return self.send_error(ErrorCode::AlreadyInSession, ctx);
                }
                let resume = ResumeRequest {
                    conn: self.conn(ctx),
                    home: Arbiter::current(),
                    token,
                    last_seq,
                    ip: self.ip,
                };
                let registry = self.state.registry.clone();
                let turn = self.state.turn.clone();
                let fut = async move {
                    turn.ready().await;
                    registry
                        .send(resume)
                        .await
                        .unwrap_or(Err(JoinError::NotFound))
                };
                self.await_membership(fut, "resume", received, ctx);
            }
            ClientMessage::Leave {} => self.leave(ctx),
            other => {
                if let Some(m) = &self.membership {
                    m.session.do_send(Command {
                        from: self.id,
                        msg: other,
                        received,
                    });
                }
                // Not in a session: ignored without an error (the host app keeps sending
                // `playback` on a socket that reconnected without rejoining).
            }
        }
    }

    fn join(&mut self, fields: JoinFields, role: Role, received: Instant, ctx: &mut Context<Self>) {
        if self.membership.is_some() {
            return self.send_error(ErrorCode::AlreadyInSession, ctx);
        }
        let present = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let find = Find {
            code: SessionCode::parse(&fields.code),
            ip: self.ip,
        };
        let join = Join {
            conn: self.conn(ctx),
            role,
            username: present(fields.guest_name).or(present(fields.username)),
            password: fields.password,
            familiar: fields.familiar,
            resumable: Capabilities::resume_of(fields.capabilities),
        };
        let registry = self.state.registry.clone();
        let turn = self.state.turn.clone();
        let fut = async move {
            turn.ready().await;
            let session = registry
                .send(find)
                .await
                .unwrap_or(Err(JoinError::NotFound))?;
            let joined = session
                .send(join)
                .await
                .unwrap_or(Err(JoinError::NotFound))?;
            Ok((session, joined))
        };
        self.await_membership(fut, "join", received, ctx);
    }

    /// Runs a create, join or resume to its end before this connection reads anything else, so
    /// a message sent right after `join` finds the connection already a member.
    fn await_membership<F>(
        &mut self,
        fut: F,
        what: &'static str,
        received: Instant,
        ctx: &mut Context<Self>,
    ) where
        F: std::future::Future<Output = Result<(Addr<Session>, Joined), JoinError>> + 'static,
    {
        ctx.wait(fut.into_actor(self).map(move |result, act, ctx| {
            let metrics = &act.state.core.metrics;
            match result {
                Ok((session, joined)) => {
                    act.membership = Some(Membership {
                        key: joined.key,
                        session,
                    });
                    act.host_ended = false;
                    match what {
                        "join" => {
                            Metrics::inc(&metrics.joins, "outcome", "joined");
                            metrics
                                .join_seconds
                                .observe(received.elapsed().as_secs_f64());
                        }
                        "resume" => Metrics::inc(&metrics.resumes, "outcome", "resumed"),
                        _ => {}
                    }
                }
                Err(e) => {
                    match what {
                        "join" => Metrics::inc(&metrics.joins, "outcome", e.outcome()),
                        "resume" => Metrics::inc(&metrics.resumes, "outcome", e.outcome()),
                        _ => {}
                    }
                    if e == JoinError::WrongPassword {
                        act.state.registry.do_send(JoinFailed { ip: act.ip });
                    }
                    log::info!("connection {}: {what} refused ({})", act.id.0, e.outcome());
                    let out = e.to_outbound(&act.state.core);
                    act.write_out(out, ctx);
                }
            }
        }));
    }

    /// `leave`: the sender always gets `left {}` — from the session when it was a member (in
    /// order after everything the session sent it), from here otherwise.
    fn leave(&mut self, ctx: &mut Context<Self>) {
        let Some(membership) = self.membership.take() else {
            return self.write(Write::Text(ServerMessage::Left {}.to_text()), ctx);
        };
        let id = self.id;
        ctx.wait(
            async move {
                membership
                    .session
                    .send(Leave { from: id })
                    .await
                    .unwrap_or(false)
            }
            .into_actor(self)
            .map(|answered, act, ctx| {
                if !answered {
                    act.write(Write::Text(ServerMessage::Left {}.to_text()), ctx);
                }
            }),
        );
    }

    /// Pings on a timer and drops a peer that has been silent too long.
    fn watch_liveness(&self, ctx: &mut Context<Self>) {
        let idle_timeout = self.state.config.idle_timeout();
        ctx.run_interval(self.state.config.ping_interval(), move |act, ctx| {
            if act.last_heard.elapsed() > idle_timeout {
                log::info!("connection {}: silent, dropping", act.id.0);
                act.close(1001, "no response to ping", "silent", ctx);
                ctx.stop();
            } else {
                act.write(Write::Ping, ctx);
            }
        });
    }
}

impl Actor for Connection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.metrics().sockets_live.inc();
        self.watch_liveness(ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // End the socket politely if no close frame went out yet.
        if let Some(ws) = self.ws.take() {
            actix_rt::spawn(async move {
                let _ = ws.close(None).await;
            });
        }
        if let Some(membership) = self.membership.take() {
            membership.session.do_send(Disconnected { from: self.id });
        }
        let reason = if self.close_reason == "left" && self.host_ended {
            "host_ended"
        } else {
            self.close_reason
        };
        let metrics = self.metrics();
        metrics.sockets_live.dec();
        Metrics::inc(&metrics.sockets_closed, "reason", reason);
    }
}

impl Handler<Outbound> for Connection {
    type Result = ();

    fn handle(&mut self, out: Outbound, ctx: &mut Context<Self>) {
        self.write_out(out, ctx);
    }
}

impl StreamHandler<Result<AggregatedMessage, ProtocolError>> for Connection {
    fn handle(&mut self, item: Result<AggregatedMessage, ProtocolError>, ctx: &mut Context<Self>) {
        self.last_heard = Instant::now();
        if self.closing {
            if let Ok(AggregatedMessage::Close(_)) = item {
                ctx.stop();
            }
            return;
        }
        match item {
            Ok(AggregatedMessage::Text(text)) => self.on_text(text, ctx),
            Ok(AggregatedMessage::Binary(_)) => self.send_error(ErrorCode::BinaryNotSupported, ctx),
            Ok(AggregatedMessage::Ping(payload)) => self.write(Write::Pong(payload), ctx),
            Ok(AggregatedMessage::Pong(_)) => {}
            Ok(AggregatedMessage::Close(_)) => {
                self.closing = true;
                self.write(
                    Write::Close(CloseReason {
                        code: CloseCode::Normal,
                        description: None,
                    }),
                    ctx,
                );
                ctx.stop();
            }
            Err(ProtocolError::Overflow) => self.close(1009, "frame too big", "too_big", ctx),
            // The peer vanished without a close frame (tab killed, network gone): a departure
            // like any other, not a fault.
            Err(ProtocolError::Io(_)) => ctx.stop(),
            Err(e) => {
                log::debug!("connection {}: protocol error {e}", self.id.0);
                self.close(1002, "protocol error", "protocol_error", ctx);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Sends one frame; a close frame consumes the sink, so it goes through a clone.
async fn send(ws: &mut actix_ws::Session, frame: Write) -> Result<(), actix_ws::Closed> {
    match frame {
        Write::Text(text) => ws.text(text).await,
        Write::Ping => ws.ping(b"").await,
        Write::Pong(payload) => ws.pong(&payload).await,
        Write::Close(reason) => ws.clone().close(Some(reason)).await,
    }
}
