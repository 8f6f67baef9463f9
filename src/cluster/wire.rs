//! Machine-to-machine HTTP: one small `GET` to a peer over the private network, carrying the
//! cluster key. Plain HTTP/1.1 on a fresh connection with a deadline; the answers are a few
//! hundred bytes of our own JSON, so no pool and no client library.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The header that proves a request comes from a machine that holds `SESSION_SECRET`.
pub const KEY_HEADER: &str = "x-familiar-cluster-key";
/// How many machines a request has already passed through (bridged or replayed).
pub const HOPS_HEADER: &str = "x-familiar-cluster-hops";
/// The client's address as the first machine saw it, for the failed-join throttle.
pub const CLIENT_IP_HEADER: &str = "x-familiar-client-ip";

/// Answers above this size are not ours.
const MAX_ANSWER: usize = 64 * 1024;

/// `GET path` on `addr` with the cluster key: (status, body), or `None` when the peer did not
/// answer within `deadline`.
pub async fn get(addr: &str, path: &str, key: &str, deadline: Duration) -> Option<(u16, String)> {
    tokio::time::timeout(deadline, get_inner(addr, path, key))
        .await
        .ok()
        .flatten()
}

async fn get_inner(addr: &str, path: &str, key: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{KEY_HEADER}: {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut raw = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        if raw.len() > MAX_ANSWER {
            return None;
        }
    }
    parse_answer(&raw)
}

/// Status and body of an HTTP/1.1 answer with a `Content-Length` (or none: read to the end).
fn parse_answer(raw: &[u8]) -> Option<(u16, String)> {
    let text = std::str::from_utf8(raw).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head
        .lines()
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let length = head.lines().skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    });
    let body = match length {
        Some(n) => body.get(..n)?,
        None => body,
    };
    Some((status, body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_and_body() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\ncontent-type: x\r\n\r\nabcdEXTRA";
        assert_eq!(parse_answer(raw), Some((200, "abcd".to_string())));
        let raw = b"HTTP/1.1 404 Not Found\r\n\r\n";
        assert_eq!(parse_answer(raw), Some((404, String::new())));
    }

    #[test]
    fn garbage_is_no_answer() {
        assert_eq!(parse_answer(b"nonsense"), None);
        assert_eq!(
            parse_answer(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nab"),
            None
        );
        assert_eq!(parse_answer(&[0xff, 0xfe]), None);
    }
}
