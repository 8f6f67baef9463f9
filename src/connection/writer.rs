//! The connection's write side: frames go straight into the socket's own small buffer when it
//! has room (the common case: no allocation, no extra task); when it is full they wait in a
//! backlog drained in order. A client counts as not reading, and is disconnected
//! (`slow_reader`), when its backlog holds more than `OUTBOUND_MAX_BYTES`, or when the socket has
//! taken none of it for `SLOW_READER_MS`: judged by bytes and time, not by frame count, so a busy
//! session's small frames and a quiet session's large ones are held to the same memory and the
//! same patience. A reader that is slow but keeps taking frames is cut only by bytes.

use std::collections::VecDeque;
use std::mem::size_of;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_ws::{CloseCode, CloseReason};
use bytestring::ByteString;
use familiar_actors::outbound::{CloseWhy, Outbound};
use familiar_actors::protocol::ErrorCode;
use futures_util::FutureExt;

use super::Connection;

/// How long a close waits for the client's answer before the actor stops anyway.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// One frame to send on the socket.
#[derive(Clone)]
pub(super) enum Write {
    Text(ByteString),
    Ping,
    Pong(bytes::Bytes),
    Close(CloseReason),
}

impl Write {
    /// What the frame costs while it waits: its payload and its slot in the queue.
    fn cost(&self) -> usize {
        size_of::<Write>()
            + match self {
                Write::Text(text) => text.len(),
                Write::Pong(payload) => payload.len(),
                Write::Ping | Write::Close(_) => 0,
            }
    }
}

/// Frames waiting for room in the socket's own buffer, with what they weigh and how long the
/// socket has taken none of them.
#[derive(Default)]
pub(super) struct Backlog {
    frames: VecDeque<Write>,
    /// The sum of the waiting frames' [`Write::cost`].
    bytes: usize,
    /// A drain is under way: new frames queue behind it to keep the order.
    draining: bool,
    /// When the socket last took a frame of the backlog (or the backlog formed).
    moved_at: Option<Instant>,
    /// A stall check is pending (at most one per connection).
    watched: bool,
}

impl Backlog {
    fn push(&mut self, frame: Write) {
        self.bytes += frame.cost();
        self.frames.push_back(frame);
    }

    fn pop(&mut self) -> Option<Write> {
        let frame = self.frames.pop_front()?;
        self.bytes -= frame.cost();
        Some(frame)
    }

    fn clear(&mut self) {
        self.frames = VecDeque::new(); // Give a burst's memory back.
        self.bytes = 0;
        self.draining = false;
    }

    /// How long the socket has taken nothing while frames wait.
    fn stalled_for(&self) -> Duration {
        match self.moved_at {
            Some(at) if self.draining => at.elapsed(),
            _ => Duration::ZERO,
        }
    }
}

impl Connection {
    /// Sends a frame now if the socket's buffer has room, else queues it behind the others; a
    /// backlog over its bytes or stalled too long means the client stopped reading.
    pub(super) fn write(&mut self, frame: Write, ctx: &mut Context<Self>) {
        let Some(ws) = self.ws.as_mut() else { return };
        if !self.backlog.draining {
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
        let config = &self.state.config;
        if self.backlog.bytes + frame.cost() > config.outbound_max_bytes
            || self.backlog.stalled_for() >= config.slow_reader()
        {
            return self.slow_reader(ctx);
        }
        self.backlog.push(frame);
        if !self.backlog.draining {
            self.backlog.draining = true;
            self.backlog.moved_at = Some(Instant::now());
            self.watch_stall(ctx);
            self.drain(ctx);
        }
    }

    /// Disconnects a client that is not reading; what waited for it is dropped.
    fn slow_reader(&mut self, ctx: &mut Context<Self>) {
        if !self.closing {
            log::info!(
                "connection {}: slow reader ({} bytes waiting, none taken for {} ms), disconnecting",
                self.id.0,
                self.backlog.bytes,
                self.backlog.stalled_for().as_millis()
            );
            self.close_reason = "slow_reader";
            self.closing = true;
        }
        self.backlog.clear();
        ctx.stop();
    }

    /// Checks, `SLOW_READER_MS` after the backlog formed or last moved, that the socket took a
    /// frame since: a client that reads nothing is cut even when nothing more is sent to it.
    fn watch_stall(&mut self, ctx: &mut Context<Self>) {
        if self.backlog.watched {
            return;
        }
        let patience = self.state.config.slow_reader();
        let wait = patience.saturating_sub(self.backlog.stalled_for());
        self.backlog.watched = true;
        ctx.run_later(wait, move |act, ctx| {
            act.backlog.watched = false;
            if !act.backlog.draining {
                return;
            }
            if act.backlog.stalled_for() >= patience {
                act.slow_reader(ctx);
            } else {
                act.watch_stall(ctx);
            }
        });
    }

    /// Sends the oldest waiting frame, then the next, until the backlog is empty.
    fn drain(&mut self, ctx: &mut Context<Self>) {
        let (Some(frame), Some(mut ws)) = (self.backlog.pop(), self.ws.clone()) else {
            self.backlog.clear();
            return;
        };
        let closes = matches!(frame, Write::Close(_));
        ctx.spawn(
            async move { send(&mut ws, frame).await }
                .into_actor(self)
                .map(move |sent, act, ctx| match sent {
                    Ok(()) if !closes => {
                        act.backlog.moved_at = Some(Instant::now());
                        act.drain(ctx)
                    }
                    _ => {
                        act.ws = None;
                        act.backlog.clear();
                        if !closes {
                            ctx.stop();
                        }
                    }
                }),
        );
    }

    /// Writes what a session (or this connection) sends.
    pub(super) fn write_out(&mut self, out: Outbound, ctx: &mut Context<Self>) {
        match out {
            Outbound::Frame(text) => self.write(Write::Text(text), ctx),
            Outbound::Close(why) => self.close(why, ctx),
            Outbound::Detached { key } => {
                if self.membership.as_ref().is_some_and(|m| m.key == key) {
                    self.membership = None;
                    self.host_ended = true;
                    self.open_handshake_window(Duration::ZERO, ctx);
                }
            }
        }
    }

    pub(super) fn send_error(&mut self, code: ErrorCode, ctx: &mut Context<Self>) {
        let out = self.state.core.error(code);
        self.write_out(out, ctx);
    }

    /// Queues a close frame, then stops soon whether or not the client answers.
    pub(super) fn close(&mut self, why: CloseWhy, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        self.close_reason = why.label;
        self.write(
            Write::Close(CloseReason {
                code: CloseCode::from(why.code),
                description: Some(why.reason.to_string()),
            }),
            ctx,
        );
        self.closing = true;
        ctx.run_later(CLOSE_WAIT, |_, ctx| ctx.stop());
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
