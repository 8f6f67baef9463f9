//! One client WebSocket to the relay. Sockets are spread over several loopback source
//! addresses (127.0.0.2, 127.0.0.3, …): one source address has only about 28,000 ephemeral
//! ports towards the relay's one port, and the capacity run opens 18,000 while earlier runs'
//! sockets may still sit in TIME_WAIT.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// Per-socket read chunk. tungstenite allocates 128 KiB by default, eagerly: 2.3 GB for
/// 18,000 sockets. It also zeroes a whole chunk before every read (5 % of the bench's CPU at
/// 8 KiB in the relay scenario); relay frames here are a few hundred bytes, and the few-KB
/// SDP of the handshake simply takes two reads.
const READ_BUFFER: usize = 2 * 1024;

/// Bytes a socket gathers before writing when messages are fed without a flush; every send
/// path flushes, so this only lets a burst go out in one write.
const WRITE_BUFFER: usize = 16 * 1024;

/// Where and how to connect.
#[derive(Debug)]
pub struct Target {
    /// The WebSocket URL, sent in the upgrade request.
    pub url: String,
    /// The relay's address, resolved once.
    pub addr: SocketAddr,
    /// Source addresses to bind before connecting, used round-robin; empty: the kernel's pick.
    sources: Vec<IpAddr>,
    /// The next source address to use.
    next_source: AtomicUsize,
    /// How long any one step may take.
    pub timeout: Duration,
}

impl Target {
    /// Resolves `url` (`ws://host:port/path`).
    ///
    /// Errors: the URL is not `ws://`, or its host does not resolve to a loopback address —
    /// this machine may send load to no other.
    pub async fn resolve(url: &str, source_addrs: u8, timeout: Duration) -> Result<Self, String> {
        let uri: Uri = url.parse().map_err(|e| format!("bad --url {url}: {e}"))?;
        if uri.scheme_str() != Some("ws") {
            return Err(format!("--url must be ws://… (got {url})"));
        }
        let host = uri
            .host()
            .ok_or_else(|| format!("--url has no host: {url}"))?;
        let port = uri.port_u16().unwrap_or(80);
        let addr = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .find(|a| a.ip().is_loopback())
            .ok_or_else(|| {
                format!("{host} is not a loopback address; the bench loads only this machine")
            })?;
        let sources = match addr.ip() {
            IpAddr::V4(_) => (0..source_addrs)
                .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i.min(250))))
                .collect(),
            IpAddr::V6(_) => Vec::new(),
        };
        Ok(Target {
            url: url.to_owned(),
            addr,
            sources,
            next_source: AtomicUsize::new(0),
            timeout,
        })
    }

    /// How many source addresses are in use (0: the kernel picks).
    pub fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// Opens a TCP connection from the next source address and upgrades it to a WebSocket.
    ///
    /// Errors: [`Failure::Connect`] for TCP, [`Failure::Upgrade`] for the HTTP upgrade.
    pub async fn connect(&self) -> Result<Conn, Failure> {
        let stream = self.tcp().await.map_err(|e| Failure::Connect(e.kind()))?;
        stream
            .set_nodelay(true)
            .map_err(|e| Failure::Connect(e.kind()))?;
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(WRITE_BUFFER);
        let (ws, _response) =
            tokio_tungstenite::client_async_with_config(self.url.as_str(), stream, Some(config))
                .await
                .map_err(|e| Failure::Upgrade(short(&e)))?;
        Ok(Conn { ws })
    }

    async fn tcp(&self) -> io::Result<TcpStream> {
        let socket = match self.addr {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if !self.sources.is_empty() {
            let n = self.next_source.fetch_add(1, Ordering::Relaxed);
            let source = self.sources[n % self.sources.len()];
            bind_address_no_port(&socket)?;
            socket.bind(SocketAddr::new(source, 0))?;
        }
        socket.connect(self.addr).await
    }
}

/// Sets IP_BIND_ADDRESS_NO_PORT, so `bind` fixes only the source address and the kernel picks
/// the port at `connect`, knowing the destination: ports are then unique per 4-tuple (not per
/// source address) and ports in TIME_WAIT can be reused, as for an unbound socket.
fn bind_address_no_port(socket: &TcpSocket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: the descriptor is a live socket owned by `socket`; the option value is a c_int on
    // our stack whose size we pass.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A WebSocket error in a few words, fit for counting: `http 503`, `io ConnectionReset`, ….
fn short(err: &WsError) -> String {
    match err {
        WsError::Http(response) => format!("http {}", response.status().as_u16()),
        WsError::Io(io) => format!("io {:?}", io.kind()),
        WsError::Protocol(_) => "protocol".to_owned(),
        WsError::Capacity(_) => "capacity".to_owned(),
        WsError::ConnectionClosed | WsError::AlreadyClosed => "closed".to_owned(),
        other => format!("{other}").chars().take(40).collect(),
    }
}

/// Why a client could not do what it set out to do; counted by [`Failure::label`].
#[derive(Debug, Clone)]
pub enum Failure {
    /// TCP connect (or socket setup) failed.
    Connect(io::ErrorKind),
    /// The HTTP upgrade failed (a short reason: the HTTP status, or the kind of error).
    Upgrade(String),
    /// The relay closed the socket (with its close code, if it sent one).
    Closed(Option<u16>),
    /// The socket broke (a short reason).
    Transport(String),
    /// The relay answered with an `error` (its label, see [`crate::wire::Inbound::error_label`]).
    Refused(String),
    /// A step took longer than `--timeout`.
    Timeout(&'static str),
    /// The relay sent something the step cannot use.
    Protocol(&'static str),
}

impl Failure {
    /// A short stable name for counting failures of a kind.
    pub fn label(&self) -> String {
        match self {
            Failure::Connect(kind) => format!("connect:{kind:?}"),
            Failure::Upgrade(why) => format!("upgrade:{why}"),
            Failure::Closed(Some(code)) => format!("closed:{code}"),
            Failure::Closed(None) => "closed".to_owned(),
            Failure::Transport(why) => format!("transport:{why}"),
            Failure::Refused(label) => label.clone(),
            Failure::Timeout(step) => format!("timeout:{step}"),
            Failure::Protocol(what) => format!("protocol:{what}"),
        }
    }
}

/// An open client WebSocket.
pub struct Conn {
    ws: WebSocketStream<TcpStream>,
}

impl Conn {
    /// Sends one text frame and flushes it.
    pub async fn send(&mut self, text: String) -> Result<(), Failure> {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| Failure::Transport(short(&e)))
    }

    /// Queues one text frame without flushing; follow with [`Conn::flush`].
    pub async fn feed(&mut self, text: String) -> Result<(), Failure> {
        self.ws
            .feed(Message::Text(text.into()))
            .await
            .map_err(|e| Failure::Transport(short(&e)))
    }

    /// Writes everything fed so far.
    pub async fn flush(&mut self) -> Result<(), Failure> {
        self.ws
            .flush()
            .await
            .map_err(|e| Failure::Transport(short(&e)))
    }

    /// The next text frame. Pings are answered by tungstenite while reading; pongs and binary
    /// frames are skipped. Cancel-safe: a frame half read stays in the socket's buffer.
    pub async fn recv(&mut self) -> Result<Utf8Bytes, Failure> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => return Ok(text),
                Some(Ok(Message::Close(frame))) => {
                    return Err(Failure::Closed(frame.map(|f| u16::from(f.code))))
                }
                Some(Ok(_)) => continue,
                Some(Err(err)) => return Err(Failure::Transport(short(&err))),
                None => return Err(Failure::Closed(None)),
            }
        }
    }

    /// Closes politely: sends a close frame, then reads until the relay answers with its own
    /// and ends the stream, giving up after two seconds. Dropping a socket that still has
    /// unread frames makes the kernel send RST, and the relay then loses whatever it had not
    /// read yet — a `leave` sent just before, for one.
    pub async fn close(mut self) {
        let polite = async {
            if self.ws.close(None).await.is_err() {
                return;
            }
            while let Some(Ok(_)) = self.ws.next().await {}
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), polite).await;
    }
}
