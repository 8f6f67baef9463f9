//! Refuses an oversize frame as soon as its header arrives. actix-ws checks a frame's declared
//! length only once the whole frame is buffered, so a client that declared a huge frame could
//! make the relay hold everything it sent, far past `MAX_FRAME_BYTES`. This guard follows the
//! frame headers in the raw byte stream (a few bytes per frame; payloads are skipped by count)
//! and ends the stream with `PayloadError::Overflow` right after a header that declares more
//! than the limit, which the connection answers with 1009.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::dev;
use actix_web::error::PayloadError;
use actix_web::{web, FromRequest, HttpRequest};
use bytes::Bytes;
use futures_util::{FutureExt, Stream};

/// The longest frame header: 2 bytes, an 8-byte length, a 4-byte mask.
const MAX_HEADER: usize = 14;

/// Where the guard is in the byte stream.
#[derive(Debug)]
enum Step {
    /// Reading a header: the bytes of it seen so far.
    Header { seen: [u8; MAX_HEADER], len: usize },
    /// Inside a payload: this many bytes still to pass.
    Payload(u64),
    /// An oversize header went through; the error comes after one yield, so the frames before
    /// it are decoded first.
    Tripped { yielded: bool },
    /// The error went out.
    Done,
}

/// The client's byte stream with oversize frames refused at their header.
pub struct FrameGuard<S> {
    inner: S,
    max_frame_bytes: u64,
    step: Step,
}

impl<S> FrameGuard<S> {
    pub fn new(inner: S, max_frame_bytes: usize) -> Self {
        FrameGuard {
            inner,
            max_frame_bytes: max_frame_bytes as u64,
            step: Step::Header {
                seen: [0; MAX_HEADER],
                len: 0,
            },
        }
    }

    /// Follows `chunk`; `Some(n)` when the header ending at byte `n` declares an oversize frame.
    fn follow(&mut self, chunk: &[u8]) -> Option<usize> {
        let mut at = 0;
        while at < chunk.len() {
            match &mut self.step {
                Step::Payload(left) => {
                    let passed = (*left).min((chunk.len() - at) as u64);
                    *left -= passed;
                    at += passed as usize;
                    if *left == 0 {
                        self.step = Step::Header {
                            seen: [0; MAX_HEADER],
                            len: 0,
                        };
                    }
                }
                Step::Header { seen, len } => {
                    seen[*len] = chunk[at];
                    *len += 1;
                    at += 1;
                    let Some(declared) = declared_length(&seen[..*len]) else {
                        continue;
                    };
                    if declared > self.max_frame_bytes {
                        self.step = Step::Tripped { yielded: false };
                        return Some(at);
                    }
                    self.step = if declared == 0 {
                        Step::Header {
                            seen: [0; MAX_HEADER],
                            len: 0,
                        }
                    } else {
                        Step::Payload(declared)
                    };
                }
                Step::Tripped { .. } | Step::Done => return None,
            }
        }
        None
    }
}

/// A complete header's declared payload length; `None` while the header is incomplete.
fn declared_length(header: &[u8]) -> Option<u64> {
    let second = *header.get(1)?;
    let (extended, from) = match second & 0x7f {
        126 => (2, 2),
        127 => (8, 2),
        short => (0, u64::from(short)),
    };
    let mask = if second & 0x80 != 0 { 4 } else { 0 };
    if header.len() < 2 + extended + mask {
        return None;
    }
    Some(match extended {
        0 => from,
        n => header[2..2 + n]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
    })
}

impl<S> Stream for FrameGuard<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.step {
            Step::Tripped { yielded: false } => {
                // Let the decoder take the frames already passed before it sees the error.
                this.step = Step::Tripped { yielded: true };
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Step::Tripped { yielded: true } => {
                this.step = Step::Done;
                return Poll::Ready(Some(Err(PayloadError::Overflow)));
            }
            Step::Done => return Poll::Ready(None),
            Step::Header { .. } | Step::Payload(_) => {}
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => match this.follow(&chunk) {
                Some(end) => Poll::Ready(Some(Ok(chunk.slice(..end)))),
                None => Poll::Ready(Some(Ok(chunk))),
            },
            other => other,
        }
    }
}

/// The request body of a WebSocket upgrade, guarded, in the form `actix_ws::handle` takes.
pub fn guarded_payload<S>(req: &HttpRequest, body: S, max_frame_bytes: usize) -> web::Payload
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin + 'static,
{
    let guarded: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(FrameGuard::new(body, max_frame_bytes));
    let mut payload = dev::Payload::Stream { payload: guarded };
    web::Payload::from_request(req, &mut payload)
        .now_or_never()
        .and_then(Result::ok)
        .expect("the payload extractor is immediate") // ok: it only moves the payload out
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream::{self, StreamExt};

    /// A masked frame header declaring `len` bytes.
    fn header(len: u64) -> Vec<u8> {
        let mut h = vec![0x81];
        match len {
            0..=125 => h.push(0x80 | len as u8),
            126..=0xffff => {
                h.push(0x80 | 126);
                h.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                h.push(0x80 | 127);
                h.extend_from_slice(&len.to_be_bytes());
            }
        }
        h.extend_from_slice(&[1, 2, 3, 4]);
        h
    }

    /// Everything the guard passes, as (bytes, error seen), when `stream` arrives in `chunk`-byte pieces.
    async fn run(stream: &[u8], chunk: usize, max: usize) -> (Vec<u8>, bool) {
        let pieces: Vec<Result<Bytes, PayloadError>> = stream
            .chunks(chunk)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let guard = FrameGuard::new(stream::iter(pieces), max);
        let items: Vec<_> = guard.collect::<Vec<_>>().await;
        let mut passed = Vec::new();
        let mut failed = false;
        for item in items {
            match item {
                Ok(b) => passed.extend_from_slice(&b),
                Err(PayloadError::Overflow) => failed = true,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        (passed, failed)
    }

    #[actix_rt::test]
    async fn frames_within_the_limit_pass_whole_in_any_chunking() {
        let mut stream = Vec::new();
        for len in [0u64, 5, 125, 126, 300, 1024] {
            stream.extend(header(len));
            stream.extend(std::iter::repeat_n(b'x', len as usize));
        }
        for chunk in [1, 2, 3, 7, 13, 100, 5000] {
            assert_eq!(run(&stream, chunk, 1024).await, (stream.clone(), false));
        }
    }

    #[actix_rt::test]
    async fn an_oversize_header_ends_the_stream_before_its_payload() {
        for declared in [1025u64, 70_000, 1 << 40, u64::MAX] {
            let mut stream = header(3);
            stream.extend(b"abc");
            let cut = stream.len() + header(declared).len();
            stream.extend(header(declared));
            stream.extend(vec![b'y'; 4096]);
            for chunk in [1, 5, 64, 10_000] {
                let (passed, failed) = run(&stream, chunk, 1024).await;
                assert!(failed, "declared {declared}, chunk {chunk}");
                assert_eq!(passed, stream[..cut], "declared {declared}, chunk {chunk}");
            }
        }
    }
}
