//! CPU nanoseconds per client frame for the relay's hot message types, parsed four ways:
//!
//! - `relay`: `familiar_actors::protocol::parse_client_message` (the relay's parser: a derived
//!   struct borrowing from the frame, plus one validity walk of the frame);
//! - `handwritten`: the hand-written fast path it replaced (`handwritten.rs`);
//! - `tagged`: `serde_json::from_str::<ClientMessage>` (the derived, tagged enum alone: what
//!   the relay did before it had a fast path, and still does for every other type);
//! - `borrowed`: serde_json into a derived struct that borrows its strings and keeps `sdp` /
//!   `candidate` as `&RawValue` (the maintained-library way to skip the tagged enum's buffering;
//!   it checks less than the relay does, so it is a lower bound for that approach);
//! - `sonic`: sonic-rs into the same tagged enum.
//!
//! `cargo run --release --manifest-path bench/parse/Cargo.toml [-- ROUNDS]`. Prints one row
//! per frame, the best of ROUNDS (default 15) rounds.

mod handwritten;

use std::borrow::Cow;
use std::hint::black_box;

use familiar_actors::protocol::{parse_client_message, ClientMessage};
use serde::Deserialize;
use serde_json::value::RawValue;

const CANDIDATE: &str = r#"{"candidate":"candidate:842163049 1 udp 1677729535 198.51.100.23 54321 typ srflx raddr 192.0.2.10 rport 54321 generation 0 ufrag 8Zq1 network-id 1 network-cost 10","sdpMid":"0","sdpMLineIndex":0,"seq":12345,"ts":1764633600123}"#;

/// One frame as the borrowing derive reads it.
#[derive(Deserialize)]
struct Borrowed<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    target_user_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    candidate: Option<&'a RawValue>,
    #[serde(default, borrow)]
    sdp: Option<&'a RawValue>,
    #[serde(default, borrow)]
    message: Option<Cow<'a, str>>,
}

fn borrowed(text: &str) -> Option<ClientMessage> {
    let frame: Borrowed = serde_json::from_str(text).ok()?;
    let target = frame.target_user_id.map(Cow::into_owned);
    Some(match &*frame.kind {
        "webrtc_ice" => ClientMessage::WebrtcIce {
            target_user_id: target,
            candidate: frame.candidate?.into(),
        },
        "webrtc_offer" => ClientMessage::WebrtcOffer {
            target_user_id: target.unwrap_or_default(),
            sdp: frame.sdp?.into(),
        },
        "webrtc_answer" => ClientMessage::WebrtcAnswer {
            sdp: frame.sdp?.into(),
        },
        "chat" => ClientMessage::Chat {
            message: frame.message.map(Cow::into_owned).unwrap_or_default(),
        },
        _ => return None,
    })
}

fn sdp(kind: &str, lines: usize) -> String {
    let mut body = String::from("v=0\\r\\no=- 4611731400430051336 2 IN IP4 127.0.0.1\\r\\n");
    for i in 0..lines {
        body.push_str(&format!(
            "a=candidate:{i} 1 udp 2122260223 192.0.2.{i} 5{i:04} typ host generation 0\\r\\n"
        ));
    }
    format!(r#"{{"type":"{kind}","sdp":"{body}"}}"#)
}

fn frames() -> Vec<(&'static str, String)> {
    let target = "0b0e2d36-2b5e-4c39-9d0b-5f2f4a8e7c11";
    vec![
        (
            "webrtc_ice (host → guest)",
            format!(r#"{{"type":"webrtc_ice","target_user_id":"{target}","candidate":{CANDIDATE}}}"#),
        ),
        (
            "webrtc_ice (guest → host)",
            format!(r#"{{"type":"webrtc_ice","candidate":{CANDIDATE}}}"#),
        ),
        (
            "webrtc_offer (3 KB)",
            format!(
                r#"{{"type":"webrtc_offer","target_user_id":"{target}","sdp":{}}}"#,
                sdp("offer", 40)
            ),
        ),
        (
            "webrtc_answer (3 KB)",
            format!(r#"{{"type":"webrtc_answer","sdp":{}}}"#, sdp("answer", 40)),
        ),
        (
            // As `JSON.stringify` writes it: non-ASCII as UTF-8, a newline escaped.
            "chat",
            r#"{"type":"chat","message":"that bass line at 1:32 ❤"}"#.to_string(),
        ),
        (
            "chat (with a newline)",
            r#"{"type":"chat","message":"that bass line\nat 1:32 ❤"}"#.to_string(),
        ),
        (
            "playback",
            r#"{"type":"playback","track_id":"spotify:track:4uLU6hMCjMI75M1A2tKUQC","is_playing":true,"position_ms":92345.5,"track_meta":{"title":"Song","artist":"Band","bpm":120}}"#.to_string(),
        ),
    ]
}

/// The parsers compared, by column.
type Parser = fn(&str) -> bool;

const PARSERS: [(&str, Parser); 5] = [
    ("relay", |t| parse_client_message(t).is_ok()),
    ("handwritten", |t| handwritten::parse_client_message(t).is_ok()),
    ("tagged", |t| serde_json::from_str::<ClientMessage>(t).is_ok()),
    ("borrowed", |t| borrowed(t).is_some()),
    ("sonic", |t| sonic_rs::from_str::<ClientMessage>(t).is_ok()),
];

/// This thread's CPU time in nanoseconds: time spent descheduled on a shared machine is not in it.
fn thread_cpu_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// CPU nanoseconds per call of each parser on `text`: the best of `rounds` runs of 100,000 calls,
/// the parsers taking turns within each round so a busy machine slows them alike.
fn time(rounds: usize, text: &str) -> Vec<Option<f64>> {
    const N: u32 = 100_000;
    let mut best = vec![f64::INFINITY; PARSERS.len()];
    let usable: Vec<bool> = PARSERS.iter().map(|(_, parse)| parse(text)).collect();
    for _ in 0..rounds {
        for (i, (_, parse)) in PARSERS.iter().enumerate() {
            if !usable[i] {
                continue;
            }
            let start = thread_cpu_ns();
            for _ in 0..N {
                black_box(parse(black_box(text)));
            }
            best[i] = best[i].min((thread_cpu_ns() - start) as f64 / f64::from(N));
        }
    }
    best.into_iter()
        .zip(usable)
        .map(|(ns, ok)| ok.then_some(ns))
        .collect()
}

fn main() {
    let rounds = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);
    println!("CPU ns per frame, best of {rounds} rounds (-: that parser does not take the frame)");
    print!("{:<26} {:>6}", "frame", "bytes");
    for (name, _) in PARSERS {
        print!(" {name:>11}");
    }
    println!();
    for (name, text) in frames() {
        print!("{name:<26} {:>6}", text.len());
        for ns in time(rounds, &text) {
            match ns {
                Some(ns) => print!(" {ns:>11.0}"),
                None => print!(" {:>11}", "-"),
            }
        }
        println!();
    }
}
