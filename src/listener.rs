//! Binds the relay's listening sockets with an explicit accept backlog.
//!
//! `std::net::TcpListener::bind` always listens with a backlog of 128, and actix-web's own
//! `backlog` setting only applies to sockets it binds itself, so a burst of connects (a link
//! posted to a big group chat) overflowed the queue and each dropped SYN waited a second for its
//! retransmit. Binding here with `socket2` lets the configured backlog reach `listen(2)`.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// Binds `host:port` (the first address it resolves to that binds) and listens with `backlog`.
pub fn bind(host: &str, port: u16, backlog: u32) -> io::Result<TcpListener> {
    let mut last_error = None;
    for addr in (host, port).to_socket_addrs()? {
        match bind_addr(addr, backlog) {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{host} resolves to nothing"),
        )
    }))
}

fn bind_addr(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As std does: a restarted relay can bind while old connections sit in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    Ok(socket.into())
}

/// Bounds how long the kernel keeps a connection whose peer takes nothing: once what the relay
/// sent stays unacknowledged, or the peer's receive window stays shut, for `timeout` (at least
/// 1 s), the kernel aborts the connection (`TCP_USER_TIMEOUT`). Without it a client that stopped
/// reading keeps its socket, and the send buffer the kernel holds for it (up to 4 MiB), open for
/// as long as it acknowledges window probes, long after the relay gave up on it. Set on the
/// listening socket, so every accepted connection inherits it at no cost per connection.
pub fn abort_unread_after(listener: &TcpListener, timeout: Duration) {
    let timeout = timeout.max(Duration::from_secs(1));
    if let Err(e) = socket2::SockRef::from(listener).set_tcp_user_timeout(Some(timeout)) {
        log::warn!("TCP_USER_TIMEOUT not set: {e}");
    }
}
