//! The connection actor: one per WebSocket, transport only. It decodes frames, enforces
//! frame-level limits (size, binary, rate, liveness), enters its session through the registry
//! on `create` / `join` / `resume` (one route, one future), then sends straight to its session
//! actor, and writes back whatever the session sends it (see [`writer`]). Its bytes pass
//! [`guard`] first, which refuses an oversize frame at its header. A socket in no session is
//! closed unless it asks to enter one in time (see [`handshake`]).

mod bridge;
pub mod guard;
mod handshake;
mod writer;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use bytestring::ByteString;
use familiar_actors::code::SessionCode;
use familiar_actors::ids::{ConnId, SessionKey};
use familiar_actors::metrics::Metrics;
use familiar_actors::outbound::{CloseWhy, Conn, Outbound};
use familiar_actors::protocol::{
    parse_client_message, ClientMessage, ErrorCode, JoinFields, ParseError, Role, ServerMessage,
};
use familiar_actors::registry::{CreateRequest, Enter, JoinRequest, Request, ResumeRequest};
use familiar_actors::session::{Command, Disconnected, JoinError, Leave, Session};

use crate::address_sockets::SocketSlot;
use crate::drain::{Restart, RestartNotice};
use crate::rate::{Buckets, RateClass};
use crate::state::AppState;
use handshake::HandshakeWindow;
use writer::{Backlog, Write};

/// Rate-limited messages are counted over this window to spot a sustained flood.
const FLOOD_WINDOW: Duration = Duration::from_secs(10);

/// What the connection keeps of its `Membership`: only what routes its frames and recognises
/// its session's `Detached` (the user id stays with the session: one string less per socket).
struct InSession {
    key: SessionKey,
    session: Addr<Session>,
    /// Its host: told to come back first after a restart.
    host: bool,
}

/// The connection actor.
pub struct Connection {
    /// This socket, as its session finds its member.
    id: ConnId,
    /// Config, registry, metrics, TURN, rates.
    state: Arc<AppState>,
    /// The client's address (or `Fly-Client-IP`), for the failed-join throttle and the
    /// sessions-per-address cap.
    ip: Option<IpAddr>,
    /// This socket's place under `MAX_SOCKETS_PER_IP`, given back when the actor is dropped.
    _slot: Option<SocketSlot>,
    /// The socket's sink; `None` once a close frame went out.
    ws: Option<actix_ws::Session>,
    /// Frames waiting for room in the socket's buffer, oldest first.
    backlog: Backlog,
    /// The time left to ask for a session while in none.
    handshake: HandshakeWindow,
    /// The session this connection is a member of; messages go straight to it.
    membership: Option<InSession>,
    /// When the client last sent anything (pongs included), for the silence limit.
    last_heard: Instant,
    /// The client's allowance per rate class.
    buckets: Buckets,
    /// Rate-limited messages since `strikes_since`; past the limit the socket is closed.
    strikes: u32,
    /// When the current flood window opened; strikes reset after `FLOOD_WINDOW`.
    strikes_since: Instant,
    /// Set once a close has been queued: further frames from the client are ignored.
    closing: bool,
    /// Why the socket closed, for the metrics.
    close_reason: &'static str,
    /// The last session this connection was in ended (the host left).
    host_ended: bool,
    /// In a cluster: how far this socket's upgrade travelled, and its bridge to the session's
    /// machine when the session lives elsewhere.
    link: bridge::Link,
}

impl Connection {
    /// Starts the actor for an upgraded socket.
    pub fn start(
        state: Arc<AppState>,
        ip: Option<IpAddr>,
        slot: Option<SocketSlot>,
        ws: actix_ws::Session,
        stream: actix_ws::MessageStream,
    ) {
        Self::start_at_hop(state, ip, 0, slot, ws, stream);
    }

    /// Starts the actor for a socket whose upgrade passed `hops` cluster machines first.
    pub fn start_at_hop(
        state: Arc<AppState>,
        ip: Option<IpAddr>,
        hops: u8,
        slot: Option<SocketSlot>,
        ws: actix_ws::Session,
        stream: actix_ws::MessageStream,
    ) {
        let stream = frame_stream(stream, state.config.max_frame_bytes);
        Connection::create(move |ctx| {
            ctx.add_stream(stream);
            Connection {
                id: ConnId::next(),
                buckets: Buckets::new(state.rates),
                state,
                ip,
                _slot: slot,
                ws: Some(ws),
                backlog: Backlog::default(),
                handshake: HandshakeWindow::default(),
                membership: None,
                last_heard: Instant::now(),
                strikes: 0,
                strikes_since: Instant::now(),
                closing: false,
                close_reason: "left",
                host_ended: false,
                link: bridge::Link::at_hop(hops),
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

    fn on_text(&mut self, text: ByteString, ctx: &mut Context<Self>) {
        let received = Instant::now();
        let msg = match parse_client_message(&text) {
            Ok(msg) => msg,
            Err(e) => {
                return match e.error_code() {
                    Some(code) => self.send_error(code, ctx),
                    None => {
                        if let ParseError::UnknownType(kind) = e {
                            log::debug!("connection {}: ignoring unknown type {kind:?}", self.id.0);
                        }
                    }
                };
            }
        };
        let kind = msg.kind();
        Metrics::inc(&self.metrics().messages_in, "type", kind);
        if let Err(retry_after_ms) = self.buckets.take(RateClass::of(&msg)) {
            return self.rate_limited(kind, retry_after_ms, ctx);
        }
        self.dispatch(msg, text, received, ctx);
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
            return self.close(CloseWhy::FLOOD, ctx);
        }
        let out = self
            .state
            .core
            .error_retry(ErrorCode::RateLimited, retry_after_ms);
        self.write_out(out, ctx);
    }

    fn dispatch(
        &mut self,
        msg: ClientMessage,
        text: ByteString,
        received: Instant,
        ctx: &mut Context<Self>,
    ) {
        let request = match route(msg) {
            Route::Enter(request) => request,
            Route::Leave => return self.leave(ctx),
            Route::Session(other) => {
                if let Some(m) = &self.membership {
                    m.session.do_send(Command {
                        from: self.id,
                        msg: other,
                        received,
                    });
                }
                // Not in a session: ignored without an error (the host app keeps sending
                // `playback` on a socket that reconnected without rejoining).
                return;
            }
        };
        self.enter(request, text, received, ctx);
    }

    /// Create, join or resume: one message to the registry, run to its end before this
    /// connection reads anything else, so a message sent right after `join` finds it a member.
    fn enter(
        &mut self,
        request: Request,
        text: ByteString,
        received: Instant,
        ctx: &mut Context<Self>,
    ) {
        if self.membership.is_some() {
            return self.send_error(ErrorCode::AlreadyInSession, ctx);
        }
        self.close_handshake_window(ctx);
        if self.state.cluster.is_some() {
            // The session may live on another machine (see `bridge`).
            return self.enter_routed(request, text, received, ctx);
        }
        self.enter_here(request, received, ctx);
    }

    /// Enters through this machine's registry.
    fn enter_here(&mut self, request: Request, received: Instant, ctx: &mut Context<Self>) {
        let kind = request.kind();
        let enter = Enter {
            conn: self.conn(ctx),
            home: Arbiter::current(),
            ip: self.ip,
            received,
            request,
        };
        let registry = self.state.registry.clone();
        let turn = self.state.turn.clone();
        let answer = async move {
            // The first welcome must carry minted TURN servers when they are configured.
            turn.ready().await;
            registry
                .send(enter)
                .await
                .unwrap_or(Err(JoinError::NotFound))
        };
        ctx.wait(
            answer
                .into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(membership) => {
                        act.membership = Some(InSession {
                            key: membership.key,
                            session: membership.session,
                            host: membership.host,
                        });
                        act.host_ended = false;
                    }
                    // The drain's notice answers it (see `restarting`).
                    Err(JoinError::Restarting) => {}
                    Err(e) => {
                        log::info!("connection {}: {kind} refused: {e}", act.id.0);
                        act.entry_refused(&e, ctx);
                        let (msg, code) = e.message();
                        let out = act.state.core.error_frame(msg, code);
                        act.write_out(out, ctx);
                    }
                }),
        );
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
                act.open_handshake_window(Duration::ZERO, ctx);
            }),
        );
    }

    /// The drain: this socket, in a session or not (fresh, waiting for its host, after
    /// `leave`), gets `server_restarting` (a host's asks it back first) and a 1012 close.
    fn restarting(&mut self, notice: RestartNotice, ctx: &mut Context<Self>) {
        let host = self.membership.as_ref().is_some_and(|m| m.host);
        let frame = if host { notice.host } else { notice.others };
        self.write(Write::Text(frame), ctx);
        self.close(CloseWhy::RESTARTING, ctx);
    }

    /// Pings on a timer and drops a peer that has been silent too long.
    fn watch_liveness(&self, ctx: &mut Context<Self>) {
        let idle_timeout = self.state.config.idle_timeout();
        ctx.run_interval(self.state.config.ping_interval(), move |act, ctx| {
            if act.last_heard.elapsed() > idle_timeout {
                log::info!("connection {}: silent, dropping", act.id.0);
                act.close(CloseWhy::SILENT, ctx);
                ctx.stop();
            } else {
                act.write(Write::Ping, ctx);
            }
        });
    }
}

/// Where a client message goes.
pub enum Route {
    /// `create`, `join`, `join_guest`, `resume`: to the registry, as it takes them.
    Enter(Request),
    /// `leave`.
    Leave,
    /// Anything else: to the session, if the connection is in one.
    Session(ClientMessage),
}

/// Routes a client message as a connection does; public so the session fuzzer drives the
/// registry and sessions exactly the same way.
pub fn route(msg: ClientMessage) -> Route {
    Route::Enter(match msg {
        ClientMessage::Create {
            name,
            username,
            password,
            familiar,
            capabilities,
        } => Request::Create(CreateRequest {
            name,
            username,
            password,
            familiar,
            resumable: capabilities.resume,
        }),
        ClientMessage::Join(fields) => join_request(fields, Role::Listener),
        ClientMessage::JoinGuest(fields) => join_request(fields, Role::Guest),
        ClientMessage::Resume { token, last_seq } => {
            Request::Resume(ResumeRequest { token, last_seq })
        }
        ClientMessage::Leave {} => return Route::Leave,
        other => return Route::Session(other),
    })
}

/// A `join` or `join_guest` as the registry takes it: the code normalised, the name the first
/// non-blank of `guest_name` and `username`.
fn join_request(fields: JoinFields, role: Role) -> Request {
    let present = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    Request::Join(JoinRequest {
        code: SessionCode::parse(&fields.code),
        role,
        username: present(fields.guest_name).or(present(fields.username)),
        password: fields.password,
        familiar: fields.familiar,
        resumable: fields.capabilities.resume,
    })
}

impl Actor for Connection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.metrics().sockets_live.inc();
        self.watch_liveness(ctx);
        let socket = ctx.address().recipient();
        if let Some(notice) = self.state.open_sockets.opened(self.id, socket) {
            self.restarting(notice, ctx);
        }
        self.open_handshake_window(Duration::ZERO, ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.state.open_sockets.closed(self.id);
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

impl Handler<Restart> for Connection {
    type Result = ();

    fn handle(&mut self, Restart(notice): Restart, ctx: &mut Context<Self>) {
        self.restarting(notice, ctx);
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
        if self.forward_upstream(&item, ctx) {
            return;
        }
        if let Err(e) = &item {
            log::debug!("connection {}: protocol error {e}", self.id.0);
        }
        match (frame_action(&item), item) {
            (FrameAction::Text, Ok(AggregatedMessage::Text(text))) => self.on_text(text, ctx),
            (FrameAction::Refuse(code), _) => self.send_error(code, ctx),
            (FrameAction::Pong, Ok(AggregatedMessage::Ping(payload))) => {
                self.write(Write::Pong(payload), ctx)
            }
            (FrameAction::CloseBack, _) => {
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
            (FrameAction::Fail(why), _) => self.close(why, ctx),
            (FrameAction::Gone, _) => ctx.stop(),
            // A pong, or an action that does not match its item (it cannot: one function).
            _ => {}
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// The client's frames as the relay reads them: frames up to `max_frame_bytes`, fragmented
/// messages put back together up to the same size. One function, so the fuzzer reads frames
/// exactly as a connection does.
pub fn frame_stream(stream: actix_ws::MessageStream, max_frame_bytes: usize) -> AggregatedStream {
    stream
        .max_frame_size(max_frame_bytes)
        .aggregate_continuations()
        .max_continuation_size(max_frame_bytes)
}

/// What [`frame_stream`] yields.
pub type AggregatedStream = actix_ws::AggregatedMessageStream;

/// A fragmented text message that is not UTF-8: actix-ws keeps only the `Utf8Error`'s text.
fn is_utf8_error(e: &(dyn std::error::Error + Send + Sync)) -> bool {
    e.to_string().contains("utf-8")
}

/// What a connection does with one item of its frame stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameAction {
    /// A text frame: parse it as a client message.
    Text,
    /// Answer with this `error` and keep the socket (a binary frame).
    Refuse(ErrorCode),
    /// A ping: answer with a pong.
    Pong,
    /// Nothing to do (a pong).
    Nothing,
    /// The client closed: answer with a normal close.
    CloseBack,
    /// A bad frame: close the socket with this code.
    Fail(CloseWhy),
    /// The transport itself failed (the peer vanished without a close frame): just stop.
    Gone,
}

/// The relay's reading of one item: every protocol error becomes a close with the code that
/// names it. actix-ws reports some protocol errors as I/O errors (invalid UTF-8, reserved bits,
/// a fragmented message over the limit); only an error of the transport underneath is a peer
/// that went away.
pub fn frame_action(item: &Result<AggregatedMessage, ProtocolError>) -> FrameAction {
    match item {
        Ok(AggregatedMessage::Text(_)) => FrameAction::Text,
        Ok(AggregatedMessage::Binary(_)) => FrameAction::Refuse(ErrorCode::BinaryNotSupported),
        Ok(AggregatedMessage::Ping(_)) => FrameAction::Pong,
        Ok(AggregatedMessage::Pong(_)) => FrameAction::Nothing,
        Ok(AggregatedMessage::Close(_)) => FrameAction::CloseBack,
        Err(ProtocolError::Overflow) => FrameAction::Fail(CloseWhy::TOO_BIG),
        Err(ProtocolError::Io(e)) => {
            let inner = e.get_ref();
            let payload = inner.and_then(|i| i.downcast_ref::<actix_web::error::PayloadError>());
            if let Some(actix_web::error::PayloadError::Overflow) = payload {
                // [`guard`]: a header declared an oversize frame.
                FrameAction::Fail(CloseWhy::TOO_BIG)
            } else if payload.is_some() {
                FrameAction::Gone
            } else if inner.is_some_and(|i| i.is::<std::str::Utf8Error>() || is_utf8_error(i)) {
                FrameAction::Fail(CloseWhy::INVALID_TEXT)
            } else if e.kind() == std::io::ErrorKind::InvalidData {
                // Reserved bits set.
                FrameAction::Fail(CloseWhy::PROTOCOL)
            } else {
                // actix-ws's one other I/O error: a fragmented message over the limit.
                FrameAction::Fail(CloseWhy::TOO_BIG)
            }
        }
        Err(_) => FrameAction::Fail(CloseWhy::PROTOCOL),
    }
}
