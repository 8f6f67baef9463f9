//! What the drain tells every open socket: the one `server_restarting` notice (hosts asked back
//! before everyone else), and the list of open sockets it is sent to. A socket that opens after
//! the notice went out finds it here and is told at once.
//!
//! A map entry per socket (an id and a `Recipient`, ~70 bytes) rather than a future per socket
//! waiting on a channel, which cost ~0.5 KB each.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use actix::prelude::*;
use bytestring::ByteString;
use familiar_actors::ids::ConnId;

/// The `server_restarting` frames of one drain.
#[derive(Debug, Clone)]
pub struct RestartNotice {
    /// For a session's host: back first, so its session exists when its guests return (a
    /// guest before its host is refused with `host_not_back` and waits).
    pub host: ByteString,
    /// For everyone else, in a session or not.
    pub others: ByteString,
}

/// Tell this socket the relay is restarting, then close it.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Restart(pub RestartNotice);

/// The open sockets, and the notice once the drain has begun.
#[derive(Default)]
pub struct OpenSockets {
    notice: OnceLock<RestartNotice>,
    open: Mutex<HashMap<ConnId, Recipient<Restart>>>,
}

impl OpenSockets {
    /// Lists a socket; the notice if the drain has begun already (the caller tells itself).
    pub fn opened(&self, id: ConnId, socket: Recipient<Restart>) -> Option<RestartNotice> {
        self.lock().insert(id, socket);
        self.notice.get().cloned()
    }

    /// Forgets a closed socket.
    pub fn closed(&self, id: ConnId) {
        self.lock().remove(&id);
    }

    /// Sends `notice` to every open socket (and to any that opens from now on); how many were told.
    pub fn tell_all(&self, notice: RestartNotice) -> usize {
        let notice = self.notice.get_or_init(|| notice).clone();
        let open = std::mem::take(&mut *self.lock());
        for socket in open.values() {
            socket.do_send(Restart(notice.clone()));
        }
        open.len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ConnId, Recipient<Restart>>> {
        // Every critical section is one map operation: a panic cannot leave it half done.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
