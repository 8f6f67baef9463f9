//! The relay's end of every accepted socket has `TCP_NODELAY` set: without it, a small frame
//! (chat, a reaction, the first ICE candidate after a pause) that follows another within the
//! peer's delayed-ACK time waits up to 40 ms under Nagle's algorithm.
//!
//! The relay runs in this process, so the test finds the server's end of its own connection
//! among this process's file descriptors and asks the kernel for the option itself.

mod common;

use std::net::SocketAddr;
use std::os::fd::BorrowedFd;

use common::*;
use socket2::SockRef;
use tokio_tungstenite::MaybeTlsStream;

/// The relay's end of the TCP connection whose client end is `client`: its `TCP_NODELAY`.
fn server_side_nodelay(server: SocketAddr, client: SocketAddr) -> Option<bool> {
    let fds = std::fs::read_dir("/proc/self/fd").ok()?;
    for entry in fds.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is only read from (getsockname, getpeername, getsockopt) and
        // never closed here; if another thread closes it meanwhile, those calls fail (EBADF) or
        // describe another socket, whose addresses then do not match.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = SockRef::from(&fd);
        let ends = (
            socket.local_addr().ok().and_then(|a| a.as_socket()),
            socket.peer_addr().ok().and_then(|a| a.as_socket()),
        );
        if ends == (Some(server), Some(client)) {
            return socket.tcp_nodelay().ok();
        }
    }
    None
}

#[tokio::test]
async fn accepted_sockets_have_tcp_nodelay() {
    let server = TestServer::start();
    let (host_ws, _) = host(&server).await;
    let MaybeTlsStream::Plain(stream) = host_ws.ws.get_ref() else {
        panic!("a plain TCP stream");
    };
    let client_end = stream.local_addr().unwrap();
    assert_eq!(
        server_side_nodelay(server.addr, client_end),
        Some(true),
        "the relay's end of {client_end} → {}",
        server.addr
    );
}
