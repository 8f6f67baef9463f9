//! Bad WebSocket frames over a real socket, written byte by byte: each one closes the socket with
//! the code that names it and is counted under its reason, as the frame fuzzer (familiar-fuzz)
//! demands. Regression tests for what it found: text that is not UTF-8, a fragmented message over
//! the limit and reserved bits ended the socket as if the peer had vanished (no close code,
//! counted as `left`), and a header declaring a huge frame made the relay buffer everything after
//! it instead of refusing it at once.

mod common;

use common::*;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::MaybeTlsStream;

/// The frame limit of these relays, so that oversize messages are small.
const LIMIT: usize = 1024;

fn relay() -> TestServer {
    TestServer::start_with(|c| {
        c.heartbeat_interval_ms = 3_600_000;
        c.max_frame_bytes = LIMIT;
    })
}

/// A masked client frame: `first` is the FIN/RSV/opcode byte, `declared` the length to announce.
fn frame_declaring(first: u8, declared: u64, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![first];
    match declared {
        0..=125 => out.push(0x80 | declared as u8),
        126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(declared as u16).to_be_bytes());
        }
        _ => {
            out.push(0x80 | 127);
            out.extend_from_slice(&declared.to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    frame_declaring(first, payload.len() as u64, payload)
}

const TEXT: u8 = 0x81;
const TEXT_FIRST: u8 = 0x01;
const CONTINUATION: u8 = 0x00;
const CONTINUATION_LAST: u8 = 0x80;

/// Writes raw bytes on the client's socket, past its WebSocket codec.
async fn write_raw(client: &mut Client, bytes: &[u8]) {
    let MaybeTlsStream::Plain(tcp) = client.ws.get_mut() else {
        panic!("the test relay is plain TCP");
    };
    tcp.write_all(bytes).await.unwrap();
    tcp.flush().await.unwrap();
}

/// Waits (up to `WAIT`) for the relay's `sockets_closed_total{reason}` to reach `n`; the socket
/// is counted once its actor stops, just after the close handshake.
async fn closed_for(server: &TestServer, reason: &str, n: u64) {
    let needle = format!("familiar_sockets_closed_total{{reason=\"{reason}\"}} ");
    let until = tokio::time::Instant::now() + WAIT;
    let mut counted = 0;
    while tokio::time::Instant::now() < until {
        counted = server
            .metrics()
            .await
            .lines()
            .find_map(|l| l.strip_prefix(&needle).and_then(|n| n.trim().parse().ok()))
            .unwrap_or(0);
        if counted >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(counted, n, "sockets closed for {reason}");
}

#[tokio::test]
async fn a_header_declaring_a_huge_frame_closes_with_1009_before_its_payload() {
    let server = relay();
    let (mut h, mut g, _) = host_and_guest(&server, "Big").await;
    // A gibibyte announced, a few bytes sent: nothing to wait for.
    write_raw(&mut g, &frame_declaring(TEXT, 1 << 30, b"{\"type\":")[..20]).await;
    let (code, _) = g.expect_close().await;
    assert_eq!(code, 1009);
    assert_eq!(h.expect("user_left").await["reason"], "disconnected");
    closed_for(&server, "too_big", 1).await;
}

#[tokio::test]
async fn a_fragmented_message_over_the_limit_closes_with_1009() {
    let server = relay();
    let mut c = server.client().await;
    let mut bytes = frame(TEXT_FIRST, &[b' '; 600]);
    bytes.extend(frame(CONTINUATION_LAST, &[b' '; 600]));
    write_raw(&mut c, &bytes).await;
    let (code, _) = c.expect_close().await;
    assert_eq!(code, 1009);
    closed_for(&server, "too_big", 1).await;
}

#[tokio::test]
async fn a_fragmented_message_within_the_limit_arrives_whole_even_cut_inside_a_character() {
    let server = relay();
    let (mut h, _) = host(&server).await;
    let text = r#"{"type":"chat","message":"héllo"}"#.as_bytes();
    // Cut between the two bytes of `é`, with a ping between the fragments.
    let cut = text.iter().position(|b| *b == 0xc3).unwrap() + 1;
    let mut bytes = frame(TEXT_FIRST, &text[..cut]);
    bytes.extend(frame(0x89, b"p"));
    bytes.extend(frame(CONTINUATION, &text[cut..cut + 2]));
    bytes.extend(frame(CONTINUATION_LAST, &text[cut + 2..]));
    write_raw(&mut h, &bytes).await;
    assert_eq!(h.expect("chat").await["message"], "héllo");
    h.assert_nothing_pending().await;
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007_whole_or_fragmented() {
    let server = relay();
    let mut whole = server.client().await;
    write_raw(
        &mut whole,
        &frame(TEXT, b"{\"type\":\"chat\",\"message\":\"\xff\"}"),
    )
    .await;
    assert_eq!(whole.expect_close().await.0, 1007);

    let mut fragmented = server.client().await;
    let mut bytes = frame(TEXT_FIRST, b"{\"type\":\"chat\",");
    bytes.extend(frame(CONTINUATION_LAST, b"\"message\":\"\xed\xa0\x80\"}"));
    write_raw(&mut fragmented, &bytes).await;
    assert_eq!(fragmented.expect_close().await.0, 1007);
    closed_for(&server, "invalid_text", 2).await;
}

#[tokio::test]
async fn reserved_bits_close_with_1002() {
    let server = relay();
    let mut c = server.client().await;
    write_raw(&mut c, &frame(TEXT | 0x40, br#"{"type":"create"}"#)).await;
    assert_eq!(c.expect_close().await.0, 1002);
    closed_for(&server, "protocol_error", 1).await;
}
