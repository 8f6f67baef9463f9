//! The connection's write side: frames go straight into the socket's own small buffer when it
//! has room (the common case: no allocation, no extra task); when it is full they wait in a
//! backlog drained in order. A client that stops reading fills the backlog and is disconnected,
//! never buffered without bound.

use std::collections::VecDeque;
use std::time::Duration;

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

impl Connection {
    /// Sends a frame now if the socket's buffer has room, else queues it behind the others; a
    /// full backlog means the client stopped reading.
    pub(super) fn write(&mut self, frame: Write, ctx: &mut Context<Self>) {
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

    /// Writes what a session (or this connection) sends.
    pub(super) fn write_out(&mut self, out: Outbound, ctx: &mut Context<Self>) {
        match out {
            Outbound::Frame(text) => self.write(Write::Text(text), ctx),
            Outbound::Close(why) => self.close(why, ctx),
            Outbound::Detached { key } => {
                if self.membership.as_ref().is_some_and(|m| m.key == key) {
                    self.membership = None;
                    self.host_ended = true;
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
