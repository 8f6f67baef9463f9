//! Target `frames`: the WebSocket frame decoder exactly as a relay connection reads its client
//! (`guarded_payload` → `actix_ws::handle` → `frame_stream` → `frame_action`), fed byte streams
//! built frame by frame (text and binary, fragmented and whole, control frames, close frames
//! with every kind of code, reserved bits and opcodes, masked and not, lengths minimal,
//! padded, lying or huge), then mutated at the byte level, and delivered in random chunks
//! (one byte at a time included) so every header and payload is split every possible way.
//!
//! Each stream is decoded a second time by [`reference`], a decoder written from RFC 6455 and
//! the relay's documented limits, and the two must agree item for item up to the first close:
//! - never a panic;
//! - every message, ping, pong and close the relay sees is the one the client sent (text is
//!   valid UTF-8, a fragmented message comes out whole, nothing over the size limit);
//! - every bad frame ends in the close code that names it: 1009 for a frame or message over the
//!   limit (as soon as an oversize header arrives), 1007 for text that is not UTF-8, 1002 for
//!   any other protocol violation; never the silent stop kept for a vanished peer.
//!
//! The size limit is 1 KiB for most inputs, so the edges of it are cheap to reach, and the
//! relay's default of 64 KiB for one input in 200.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use actix_web::error::PayloadError;
use actix_web::HttpRequest;
use actix_ws::{AggregatedMessage, ProtocolError};
use bytes::Bytes;
use familiar_sessions::connection::guard::guarded_payload;
use familiar_sessions::connection::{frame_action, frame_stream, FrameAction};
use futures_util::Stream;

use crate::mutate::{mutate_bytes, mutate_json, random_text};
use crate::report::{guard, show, Report};
use crate::rng::Rng;
use crate::seeds::corpus;

/// The limit most inputs run with.
pub const SMALL_LIMIT: usize = 1024;
/// The relay's default `MAX_FRAME_BYTES`.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// What the connection makes of its client's stream, item by item, up to the first close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// The client's close, with its code.
    Close(Option<u16>),
    /// The relay closes the socket with this code.
    Fail(u16),
    /// The relay stops as for a vanished peer.
    Gone,
}

impl Seen {
    fn ends(&self) -> bool {
        matches!(self, Seen::Close(_) | Seen::Fail(_) | Seen::Gone)
    }
}

/// Runs `inputs` byte streams from `seed`.
pub fn run(inputs: u64, seed: u64) -> Report {
    let mut report = Report::new("frames", "byte streams");
    let req = upgrade_request();
    let started = Instant::now();
    for n in 0..inputs {
        let mut rng = Rng::for_input(seed, n);
        let limit = if rng.one_in(200) {
            DEFAULT_LIMIT
        } else {
            SMALL_LIMIT
        };
        let stream = byte_stream(&mut rng, limit);
        let chunks = chunked(&mut rng, &stream);
        match guard(|| check(&req, &stream, chunks, limit)) {
            Ok(Ok(kind)) => report.saw(kind),
            Ok(Err(what)) => report.fail(format!(
                "input {n} (limit {limit}) {:?}: {what}",
                show(&stream)
            )),
            Err(panic) => {
                report.panics += 1;
                report.fail(format!("input {n} {:?}: panic: {panic}", show(&stream)));
            }
        }
        report.inputs += 1;
    }
    report.elapsed = started.elapsed();
    report
}

/// A GET that upgrades, as a browser sends it.
pub fn upgrade_request() -> HttpRequest {
    actix_web::test::TestRequest::default()
        .insert_header(("upgrade", "websocket"))
        .insert_header(("connection", "Upgrade"))
        .insert_header(("sec-websocket-version", "13"))
        .insert_header(("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="))
        .to_http_request()
}

/// Decodes `stream` (arriving as `chunks`) the relay's way and the reference way; `Ok(kind)`
/// names how it ended.
pub fn check(
    req: &HttpRequest,
    stream: &[u8],
    chunks: Vec<Bytes>,
    limit: usize,
) -> Result<String, String> {
    let (seen, kind) = relay_reads(req, chunks, limit)?;
    let expected = reference(stream, limit);
    if !agrees(&seen, &expected) {
        return Err(format!(
            "the relay saw {} but RFC 6455 says {}",
            brief(&seen),
            brief(&expected)
        ));
    }
    Ok(kind)
}

/// The relay agrees with the [`reference`] when it acted on the reference's items in order
/// and stopped where the relay stops, at the first close or error:
/// - it saw exactly the reference's items up to the first close or error, or
/// - it saw fewer of them and then closed with the code of an error the reference finds later
///   in the stream. actix-ws hands over a decoding error ahead of the frames it decoded before
///   it from the same read, so the good frames just before a bad one may go unread; they come
///   from a client that is being disconnected for breaking the protocol. Nothing is invented,
///   reordered or closed with a code that names no error in the stream.
pub fn agrees(seen: &[Seen], expected: &[Seen]) -> bool {
    let stop = expected
        .iter()
        .position(Seen::ends)
        .map_or(expected.len(), |i| i + 1);
    if seen == &expected[..stop] {
        return true;
    }
    match seen.split_last() {
        Some((Seen::Fail(code), before)) => {
            expected[..stop.saturating_sub(1)].starts_with(before)
                && expected[before.len()..].contains(&Seen::Fail(*code))
        }
        _ => false,
    }
}

fn brief(items: &[Seen]) -> String {
    let shown: Vec<String> = items
        .iter()
        .map(|s| match s {
            Seen::Text(t) => format!("Text({:?})", show(t.as_bytes())),
            Seen::Binary(b) => format!("Binary({} bytes)", b.len()),
            Seen::Ping(b) => format!("Ping({})", show(b)),
            Seen::Pong(b) => format!("Pong({})", show(b)),
            other => format!("{other:?}"),
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

/// The items a connection acts on, and a name for how the stream ended.
fn relay_reads(
    req: &HttpRequest,
    chunks: Vec<Bytes>,
    limit: usize,
) -> Result<(Vec<Seen>, String), String> {
    // Every poll either takes a chunk or yields an item; far more polls than that is a hang.
    let mut budget = 4 * chunks.len() + 10_000;
    let source = Chunks {
        chunks: chunks.into(),
        yielded: false,
    };
    let body = guarded_payload(req, source, limit);
    // The response is kept: dropping it would tell the stream the connection closed.
    let (_response, _session, messages) =
        actix_ws::handle(req, body).map_err(|e| format!("handshake refused: {e}"))?;
    let mut frames = frame_stream(messages, limit);
    let mut cx = Context::from_waker(Waker::noop());
    let mut seen = Vec::new();
    loop {
        budget = budget
            .checked_sub(1)
            .ok_or("the frame stream never ended")?;
        let item = match Pin::new(&mut frames).poll_next(&mut cx) {
            Poll::Pending => continue,
            Poll::Ready(None) => return Ok((seen, "end".into())),
            Poll::Ready(Some(item)) => item,
        };
        let action = frame_action(&item);
        let (next, kind) = match (&item, action) {
            (Ok(AggregatedMessage::Text(t)), FrameAction::Text) => {
                (Seen::Text(t.to_string()), None)
            }
            (Ok(AggregatedMessage::Binary(b)), FrameAction::Refuse(_)) => {
                (Seen::Binary(b.to_vec()), None)
            }
            (Ok(AggregatedMessage::Ping(b)), FrameAction::Pong) => (Seen::Ping(b.to_vec()), None),
            (Ok(AggregatedMessage::Pong(b)), FrameAction::Nothing) => {
                (Seen::Pong(b.to_vec()), None)
            }
            (Ok(AggregatedMessage::Close(r)), FrameAction::CloseBack) => (
                Seen::Close(r.as_ref().map(|r| u16::from(r.code))),
                Some("client_close".to_string()),
            ),
            (Err(e), FrameAction::Fail(why)) => (
                Seen::Fail(why.code),
                Some(format!("close:{} {}", why.code, error_name(e))),
            ),
            (Err(e), FrameAction::Gone) => (Seen::Gone, Some(format!("gone {}", error_name(e)))),
            (item, action) => return Err(format!("{item:?} acted on as {action:?}")),
        };
        let size = match &next {
            Seen::Text(t) => t.len(),
            Seen::Binary(b) => b.len(),
            _ => 0,
        };
        if size > limit {
            return Err(format!(
                "a {size}-byte message passed the {limit}-byte limit"
            ));
        }
        let ends = next.ends();
        seen.push(next);
        if ends {
            return Ok((seen, kind.unwrap_or_default()));
        }
    }
}

/// A short stable name for a protocol error, for the kinds seen.
fn error_name(e: &ProtocolError) -> String {
    match e {
        ProtocolError::Io(io) => {
            let inner = io.get_ref().map(|i| i.to_string()).unwrap_or_default();
            let words: Vec<&str> = inner.split_whitespace().take(4).collect();
            format!("Io({})", words.join(" "))
        }
        other => {
            let debug = format!("{other:?}");
            debug.split('(').next().unwrap_or_default().to_string()
        }
    }
}

/// The client's bytes as the socket delivers them: a chunk, then "nothing yet", then the next.
struct Chunks {
    chunks: VecDeque<Bytes>,
    yielded: bool,
}

impl Stream for Chunks {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.yielded {
            this.yielded = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.yielded = true;
        Poll::Ready(this.chunks.pop_front().map(Ok))
    }
}

/// `stream` cut into the pieces a socket might deliver.
pub fn chunked(rng: &mut Rng, stream: &[u8]) -> Vec<Bytes> {
    let max_piece = match rng.below(10) {
        0..=2 => stream.len().max(1),
        3 if stream.len() <= 4096 => 1,
        4..=7 => rng.range(1, 64),
        _ => rng.range(64, 4096),
    };
    let mut pieces = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        let len = rng.range(1, max_piece).min(stream.len() - at);
        pieces.push(Bytes::copy_from_slice(&stream[at..at + len]));
        at += len;
    }
    pieces
}

/// One frame as the generator builds it.
#[derive(Debug, Clone)]
struct Frame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    masked: bool,
    mask: [u8; 4],
    payload: Vec<u8>,
    /// A length to declare instead of the payload's own.
    declared: Option<u64>,
    /// 0: minimal; 1: always 16-bit when it fits; 2: always 64-bit.
    length_form: u8,
}

impl Frame {
    fn new(rng: &mut Rng, fin: bool, opcode: u8, payload: Vec<u8>) -> Self {
        Frame {
            fin,
            rsv: if rng.one_in(40) {
                rng.range(1, 7) as u8
            } else {
                0
            },
            opcode,
            masked: !rng.one_in(40),
            mask: if rng.one_in(8) {
                [0; 4]
            } else {
                [rng.byte(), rng.byte(), rng.byte(), rng.byte()]
            },
            payload,
            declared: None,
            length_form: match rng.below(20) {
                0 => 1,
                1 => 2,
                _ => 0,
            },
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push((u8::from(self.fin) << 7) | (self.rsv << 4) | (self.opcode & 0x0f));
        let len = self.declared.unwrap_or(self.payload.len() as u64);
        let mask_bit = if self.masked { 0x80 } else { 0 };
        if len <= 125 && self.length_form == 0 {
            out.push(mask_bit | len as u8);
        } else if len <= 0xffff && self.length_form != 2 {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
        if self.masked {
            out.extend_from_slice(&self.mask);
            out.extend(
                self.payload
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ self.mask[i % 4]),
            );
        } else {
            out.extend_from_slice(&self.payload);
        }
    }
}

/// A byte stream of 1–8 messages and control frames, sometimes mutated, sometimes noise.
pub fn byte_stream(rng: &mut Rng, limit: usize) -> Vec<u8> {
    if rng.one_in(25) {
        let mut noise = {
            let n = rng.below(300);
            rng.bytes(n)
        };
        if rng.one_in(2) && !noise.is_empty() {
            noise[0] = 0x81;
        }
        return noise;
    }
    let mut frames = Vec::new();
    for _ in 0..rng.range(1, 8) {
        message(rng, limit, &mut frames);
    }
    let mut out = Vec::new();
    for f in &frames {
        f.encode(&mut out);
    }
    if rng.one_in(7) {
        mutate_bytes(rng, &mut out);
    }
    out
}

/// Text the relay would read: a seed frame, mutated or not, or any text at all.
fn text_payload(rng: &mut Rng) -> Vec<u8> {
    let frames = &corpus().frames;
    let text = match rng.below(4) {
        0 => rng.pick(frames).clone(),
        1 | 2 => {
            let seed = rng.pick(frames).clone();
            mutate_json(rng, &seed)
        }
        _ => random_text(rng, 60),
    };
    let mut bytes = text.into_bytes();
    if rng.one_in(20) {
        // Not UTF-8: a lone continuation byte, a truncated sequence, an overlong form.
        const NOT_UTF8: [&[u8]; 5] = [
            &[0x80],
            &[0xe2, 0x82],
            &[0xc0, 0xaf],
            &[0xff],
            &[0xed, 0xa0, 0x80],
        ];
        let bad = *rng.pick(&NOT_UTF8);
        let at = rng.below(bytes.len() + 1);
        bytes.splice(at..at, bad.iter().copied());
    }
    bytes
}

/// Bytes of `len` around the limit, a JSON-looking text.
fn sized_payload(len: usize) -> Vec<u8> {
    let mut bytes = br#"{"type":"chat","message":""#.to_vec();
    bytes.resize(len.saturating_sub(2).max(bytes.len()), b'a');
    bytes.extend_from_slice(br#""}"#);
    bytes.truncate(len);
    bytes
}

/// Appends one message (or control frame, or mistake) to `frames`.
fn message(rng: &mut Rng, limit: usize, frames: &mut Vec<Frame>) {
    match rng.weighted(&[30, 16, 5, 8, 4, 7, 3, 6, 4, 3]) {
        // A whole text frame.
        0 => {
            let payload = text_payload(rng);
            frames.push(Frame::new(rng, true, 1, payload));
        }
        // A fragmented text message, control frames in between sometimes.
        1 => {
            let payload = if rng.one_in(6) {
                sized_payload(rng.range(limit - 2, limit + 2))
            } else {
                text_payload(rng)
            };
            fragments(rng, 1, payload, frames);
        }
        // Binary, whole or fragmented.
        2 => {
            let payload = {
                let n = rng.below(200);
                rng.bytes(n)
            };
            if rng.one_in(2) {
                frames.push(Frame::new(rng, true, 2, payload));
            } else {
                fragments(rng, 2, payload, frames);
            }
        }
        // Ping or pong, now and then over the 125-byte control limit.
        3 => {
            let len = if rng.one_in(8) {
                rng.range(120, 140)
            } else {
                rng.below(20)
            };
            let payload = rng.bytes(len);
            let opcode = if rng.one_in(2) { 9 } else { 10 };
            frames.push(Frame::new(rng, true, opcode, payload));
        }
        // A close, its payload valid or not.
        4 => {
            let payload = close_payload(rng);
            frames.push(Frame::new(rng, true, 8, payload));
        }
        // A frame at the limit, or just over it.
        5 => {
            let len = *rng.pick(&[limit - 1, limit, limit + 1, limit + 1]);
            frames.push(Frame::new(rng, true, 1, sized_payload(len)));
        }
        // A header declaring far more than the limit, with little or nothing after it.
        6 => {
            let declared = *rng.pick(&[
                limit as u64 + 1,
                0xffff,
                1 << 32,
                (1 << 63) - 1,
                1 << 63,
                u64::MAX,
            ]);
            let tail = {
                let n = rng.below(64);
                rng.bytes(n)
            };
            let opcode = *rng.pick(&[1, 2, 0, 9]);
            let mut f = Frame::new(rng, true, opcode, tail);
            f.declared = Some(declared);
            frames.push(f);
        }
        // A fragment with no message to continue, or a control frame that is not final.
        7 => {
            let opcode = *rng.pick(&[0, 0, 8, 9, 10]);
            let payload = text_payload(rng);
            let fin = rng.one_in(2);
            frames.push(Frame::new(rng, fin, opcode, payload));
        }
        // A reserved opcode.
        8 => {
            let opcode = *rng.pick(&[3, 4, 5, 6, 7, 11, 12, 13, 14, 15]);
            let payload = {
                let n = rng.below(10);
                rng.bytes(n)
            };
            frames.push(Frame::new(rng, true, opcode, payload));
        }
        // A length that lies about the payload.
        _ => {
            let payload = text_payload(rng);
            let mut f = Frame::new(rng, true, 1, payload);
            let real = f.payload.len() as u64;
            f.declared = Some(if rng.one_in(2) {
                real + rng.range(1, 9) as u64
            } else {
                real.saturating_sub(rng.range(1, 9) as u64)
            });
            frames.push(f);
        }
    }
}

/// `payload` as a fragmented message of `opcode`, cut anywhere (inside a character too),
/// sometimes with a ping between fragments or a second message started in the middle.
fn fragments(rng: &mut Rng, opcode: u8, payload: Vec<u8>, frames: &mut Vec<Frame>) {
    let pieces = rng.range(2, 5);
    let mut cuts: Vec<usize> = (0..pieces - 1)
        .map(|_| rng.below(payload.len() + 1))
        .collect();
    cuts.sort_unstable();
    let mut bounds = vec![0];
    bounds.extend(cuts);
    bounds.push(payload.len());
    for (i, w) in bounds.windows(2).enumerate() {
        let first = i == 0;
        let last = i == bounds.len() - 2;
        let op = if first { opcode } else { 0 };
        frames.push(Frame::new(rng, last, op, payload[w[0]..w[1]].to_vec()));
        if !last && rng.one_in(5) {
            let ping = {
                let n = rng.below(8);
                rng.bytes(n)
            };
            frames.push(Frame::new(rng, true, 9, ping));
        }
        if !last && rng.one_in(30) {
            // A new message before this one ended.
            frames.push(Frame::new(rng, true, 1, b"{}".to_vec()));
        }
    }
}

fn close_payload(rng: &mut Rng) -> Vec<u8> {
    match rng.below(6) {
        0 => Vec::new(),
        1 => vec![0x03],
        _ => {
            let code: u16 = *rng.pick(&[
                1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1011, 1012, 1014, 1015, 999, 0,
                2999, 3000, 4000, 4999, 5000, 65535,
            ]);
            let mut p = code.to_be_bytes().to_vec();
            match rng.below(4) {
                0 => p.extend_from_slice("bye".as_bytes()),
                1 => p.extend_from_slice(&[0xff, 0xfe]),
                2 => p.extend_from_slice("é😀".as_bytes()),
                _ => {}
            }
            p
        }
    }
}

/// What RFC 6455 and the relay's limits say a server makes of `stream`: every item in order,
/// ending at the first frame that breaks the framing rules (`Fail(1002)`, or `Fail(1009)` for a
/// frame over `limit`, known at its header) or where the stream stops inside a frame.
///
/// The relay stops at the first close or error, but the decoder reads on within what it has
/// received, so this goes on past a client's close and past the errors found once a frame is
/// whole (a message over the limit, text that is not UTF-8: `Fail(1009)`, `Fail(1007)`),
/// listing them where they happen; see [`agrees`].
pub fn reference(stream: &[u8], limit: usize) -> Vec<Seen> {
    let mut out = Vec::new();
    let mut at = 0;
    // The fragmented message under way: its opcode, and its bytes while it is still good.
    let mut open: Option<(u8, Option<Vec<u8>>)> = None;
    loop {
        let rest = &stream[at..];
        if rest.len() < 2 {
            return out;
        }
        let (first, second) = (rest[0], rest[1]);
        let (fin, rsv, opcode) = (first & 0x80 != 0, first & 0x70, first & 0x0f);
        let masked = second & 0x80 != 0;
        if rsv != 0 || !masked || !matches!(opcode, 0 | 1 | 2 | 8 | 9 | 10) {
            out.push(Seen::Fail(1002));
            return out;
        }
        let (len, mut header) = match second & 0x7f {
            126 if rest.len() >= 4 => (u64::from(u16::from_be_bytes([rest[2], rest[3]])), 4),
            127 if rest.len() >= 10 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&rest[2..10]);
                (u64::from_be_bytes(b), 10)
            }
            126 | 127 => return out,
            short => (u64::from(short), 2),
        };
        if rest.len() < header + 4 {
            // A length with its top bit set is refused as soon as it is read.
            if len > i64::MAX as u64 && header == 10 {
                out.push(Seen::Fail(1009));
            }
            return out;
        }
        if len > limit as u64 {
            out.push(Seen::Fail(1009));
            return out;
        }
        let mask = [
            rest[header],
            rest[header + 1],
            rest[header + 2],
            rest[header + 3],
        ];
        header += 4;
        let len = len as usize;
        if rest.len() < header + len {
            return out;
        }
        let payload: Vec<u8> = rest[header..header + len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        at += header + len;
        if opcode >= 8 && (len > 125 || !fin) {
            out.push(Seen::Fail(1002));
            return out;
        }
        // Control frames may come between fragments and leave the message alone.
        let fragment_state = if opcode >= 8 { None } else { Some(open.take()) };
        let whole = match (opcode, fin, fragment_state.flatten()) {
            (1 | 2, _, Some(_)) | (0, _, None) => {
                out.push(Seen::Fail(1002));
                return out;
            }
            (1 | 2, false, None) => {
                open = Some((opcode, Some(payload.clone())));
                None
            }
            (0, false, Some((kind, data))) => {
                open = Some((kind, grown(data, &payload, limit, &mut out)));
                None
            }
            (0, true, Some((kind, data))) => {
                grown(data, &payload, limit, &mut out).map(|data| (kind, data))
            }
            (1 | 2, true, None) => Some((opcode, payload.clone())),
            _ => None,
        };
        let item = match (opcode, whole) {
            (_, Some((1, data))) => match String::from_utf8(data) {
                Ok(text) => Seen::Text(text),
                Err(_) => Seen::Fail(1007),
            },
            (_, Some((_, data))) => Seen::Binary(data),
            (0..=2, None) => continue,
            (9, None) => Seen::Ping(payload),
            (10, None) => Seen::Pong(payload),
            (_, None) => match close_code(&payload) {
                Ok(code) => Seen::Close(code),
                Err(()) => {
                    out.push(Seen::Fail(1002));
                    return out;
                }
            },
        };
        out.push(item);
    }
}

/// A fragmented message with `more` added; over `limit` it is refused (`Fail(1009)` once) and
/// its bytes are no longer kept.
fn grown(data: Option<Vec<u8>>, more: &[u8], limit: usize, out: &mut Vec<Seen>) -> Option<Vec<u8>> {
    let mut data = data?;
    data.extend_from_slice(more);
    if data.len() > limit {
        out.push(Seen::Fail(1009));
        return None;
    }
    Some(data)
}

/// A close payload's code: empty is none; otherwise a code a peer may send (RFC 6455 §7.4)
/// and a UTF-8 reason.
fn close_code(payload: &[u8]) -> Result<Option<u16>, ()> {
    match payload {
        [] => Ok(None),
        [_] => Err(()),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            let allowed = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if allowed && std::str::from_utf8(reason).is_ok() {
                Ok(Some(code))
            } else {
                Err(())
            }
        }
    }
}
