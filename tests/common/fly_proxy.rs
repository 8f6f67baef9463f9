//! A stand-in for Fly's proxy (which cannot run here): it accepts HTTP and WebSocket
//! connections, sends each request to a random machine that accepts connections, and when the
//! answer carries `fly-replay: instance=<id>` sends the same request to that machine instead,
//! marked with `fly-replay-src` as Fly marks it (at most three replays, then 502). The answer
//! that is not a replay is passed back and the two sockets are spliced, so an upgraded
//! WebSocket runs through it unchanged. One request per connection decides the machine (tests
//! send `Connection: close`); the stand-in does no TLS, health checks or load balancing.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Replays of one request before the stand-in gives up, as Fly's proxy limits them.
const MAX_REPLAYS: usize = 3;

/// What the stand-in counted, for tests that must prove a route was taken.
#[derive(Default)]
pub struct ProxyCounts {
    /// Requests it received.
    pub requests: AtomicUsize,
    /// Answers that named another machine and were replayed.
    pub replays: AtomicUsize,
}

/// The running stand-in.
pub struct FlyProxy {
    pub addr: SocketAddr,
    pub counts: Arc<ProxyCounts>,
    machines: Arc<Mutex<Vec<(String, SocketAddr)>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FlyProxy {
    /// Listens on loopback in front of `machines` (id, address).
    pub fn start(machines: Vec<(String, SocketAddr)>) -> Self {
        Self::start_landing(machines, None)
    }

    /// As [`FlyProxy::start`], but every request lands first on machine `first` (an index into
    /// `machines`) when given, not on a random one: the benchmark times each route alone.
    pub fn start_landing(machines: Vec<(String, SocketAddr)>, first: Option<usize>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let machines = Arc::new(Mutex::new(machines));
        let counts = Arc::new(ProxyCounts::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (m, c) = (machines.clone(), counts.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                let accept = async {
                    loop {
                        let Ok((client, _)) = listener.accept().await else {
                            continue;
                        };
                        let _ = client.set_nodelay(true);
                        let (m, c) = (m.clone(), c.clone());
                        tokio::spawn(async move {
                            let _ = serve(client, m, c, first).await;
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
        });
        FlyProxy {
            addr,
            counts,
            machines,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The machines it sends requests to.
    pub fn machines(&self) -> Vec<(String, SocketAddr)> {
        self.machines.lock().unwrap().clone()
    }

    pub fn replays(&self) -> usize {
        self.counts.replays.load(Ordering::SeqCst)
    }
}

impl Drop for FlyProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn random() -> u64 {
    RandomState::new().build_hasher().finish()
}

/// One client connection: pick a machine, follow replays, then splice.
async fn serve(
    mut client: TcpStream,
    machines: Arc<Mutex<Vec<(String, SocketAddr)>>>,
    counts: Arc<ProxyCounts>,
    first: Option<usize>,
) -> std::io::Result<()> {
    counts.requests.fetch_add(1, Ordering::SeqCst);
    let Some((head, body)) = read_head(&mut client).await? else {
        return Ok(());
    };
    let machines: Vec<(String, SocketAddr)> = machines.lock().unwrap().clone();
    // A random machine that takes the connection, as the proxy skips a stopped one.
    let start = first.unwrap_or_else(|| random() as usize) % machines.len().max(1);
    let mut chosen = None;
    for i in 0..machines.len() {
        let (id, addr) = &machines[(start + i) % machines.len()];
        if let Ok(stream) = TcpStream::connect(addr).await {
            stream.set_nodelay(true)?;
            chosen = Some((id.clone(), stream));
            break;
        }
    }
    let Some((mut id, mut upstream)) = chosen else {
        return bad_gateway(&mut client).await;
    };
    let mut request = head;
    let mut replays = 0;
    loop {
        upstream.write_all(request.as_bytes()).await?;
        upstream.write_all(&body).await?;
        let Some((answer, rest)) = read_head(&mut upstream).await? else {
            return bad_gateway(&mut client).await;
        };
        match replay_target(&answer) {
            Some(target) if replays < MAX_REPLAYS => {
                replays += 1;
                counts.replays.fetch_add(1, Ordering::SeqCst);
                let Some((_, addr)) = machines.iter().find(|(m, _)| *m == target) else {
                    return bad_gateway(&mut client).await;
                };
                let Ok(next) = TcpStream::connect(addr).await else {
                    return bad_gateway(&mut client).await;
                };
                next.set_nodelay(true)?;
                request = with_replay_source(&request, &id);
                id = target;
                upstream = next;
            }
            Some(_) => return bad_gateway(&mut client).await,
            None => {
                client.write_all(answer.as_bytes()).await?;
                client.write_all(&rest).await?;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                return Ok(());
            }
        }
    }
}

async fn bad_gateway(client: &mut TcpStream) -> std::io::Result<()> {
    client
        .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .await
}

/// Reads up to the end of an HTTP head: (head, bytes after it). `None`: closed before one.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = raw.split_off(end + 4);
            return Ok(Some((String::from_utf8_lossy(&raw).into_owned(), rest)));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 || raw.len() > 64 * 1024 {
            return Ok(None);
        }
        raw.extend_from_slice(&chunk[..n]);
    }
}

/// The machine a `fly-replay: instance=<id>` answer names.
fn replay_target(head: &str) -> Option<String> {
    head.lines().skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if !name.trim().eq_ignore_ascii_case("fly-replay") {
            return None;
        }
        value
            .split(';')
            .find_map(|part| part.trim().strip_prefix("instance="))
            .map(|id| id.trim().to_string())
    })
}

/// The request again, marked as replayed from `source` (any earlier mark replaced).
fn with_replay_source(head: &str, source: &str) -> String {
    let mut lines: Vec<&str> = head
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("fly-replay-src:"))
        .collect();
    let mark = format!("fly-replay-src: instance={source};region=local;state=");
    lines.push(&mark);
    format!("{}\r\n\r\n", lines.join("\r\n"))
}
