//! The handshake window: a socket in no session must ask to enter one (`create`, `join`,
//! `join_guest`, `resume`) within `HANDSHAKE_TIMEOUT_MS`, or it is closed with 4008 "handshake
//! timeout" (`sockets_closed_total{reason="handshake_timeout"}`).
//!
//! The window opens at the upgrade, when the socket leaves its session (`leave`, the session
//! ended), and again at every refused entry, lengthened by the refusal's `retry_after_ms`: a guest
//! retrying `resume` behind `host_not_back` keeps its socket, one that sits in no session and asks
//! for nothing does not. Nothing else keeps it open: chat, `playback`, `leave` or pings from a
//! socket in no session are not asking to enter. While an entry is under way, or the socket is a
//! member, there is no window.

use std::time::{Duration, Instant};

use actix::prelude::*;
use familiar_actors::outbound::CloseWhy;
use familiar_actors::session::JoinError;

use super::Connection;

/// Where a socket stands with its window.
#[derive(Default)]
pub(super) struct HandshakeWindow {
    /// The socket must ask to enter a session by then; `None` while it is a member or entering.
    deadline: Option<Instant>,
    /// The pending check (at most one per connection), cancelled on entry so a member holds no
    /// timer.
    timer: Option<SpawnHandle>,
}

impl Connection {
    /// Opens (or restarts) the window: the socket has `HANDSHAKE_TIMEOUT_MS` plus `extra` to ask
    /// to enter a session.
    pub(super) fn open_handshake_window(&mut self, extra: Duration, ctx: &mut Context<Self>) {
        let Some(window) = self.state.config.handshake_timeout() else {
            return;
        };
        let deadline = Instant::now() + window + extra;
        self.handshake.deadline = Some(deadline);
        if self.handshake.timer.is_none() {
            let timer = ctx.run_later(window + extra, Self::check_handshake_window);
            self.handshake.timer = Some(timer);
        }
    }

    /// An entry is under way (or succeeded): no window until the socket is out of a session.
    pub(super) fn close_handshake_window(&mut self, ctx: &mut Context<Self>) {
        self.handshake.deadline = None;
        if let Some(timer) = self.handshake.timer.take() {
            ctx.cancel_future(timer);
        }
    }

    /// A refused entry restarts the window, lengthened by the wait the refusal asked for.
    pub(super) fn entry_refused(&mut self, error: &JoinError, ctx: &mut Context<Self>) {
        let retry_after_ms = match error {
            JoinError::Throttled { retry_after_ms } | JoinError::HostNotBack { retry_after_ms } => {
                *retry_after_ms
            }
            _ => 0,
        };
        self.open_handshake_window(Duration::from_millis(retry_after_ms), ctx);
    }

    fn check_handshake_window(&mut self, ctx: &mut Context<Self>) {
        self.handshake.timer = None;
        let Some(deadline) = self.handshake.deadline else {
            return; // A member now; the window reopens when it leaves.
        };
        let now = Instant::now();
        if deadline > now {
            let timer = ctx.run_later(deadline - now, Self::check_handshake_window);
            self.handshake.timer = Some(timer);
            return;
        }
        log::info!("connection {}: no session asked for, closing", self.id.0);
        self.close(CloseWhy::HANDSHAKE_TIMEOUT, ctx);
    }
}
