//! The wire, byte for byte: a scripted session (create, joins, playback, chat, reactions,
//! familiars, the WebRTC arms, every refusal, kick, away and resume, leave, the host's end and
//! a shutdown) is replayed over real WebSockets, and every frame the relay sends is compared as
//! text with `tests/golden/session.txt`, recorded from the relay before its core was reshaped.
//! It has changed since only by protocol additions, each re-recorded on purpose and checked to
//! add nothing else: the `mac` seal on chat and reactions, `retry_jitter_ms` on the restart notice.
//!
//! Only what differs between runs is normalised: UUIDs, session codes and resume tokens become
//! numbered placeholders in order of first appearance, RFC 3339 times and reaction timestamps
//! become `<time>` / `<ms>`, seals `<mac>`, and sequence numbers become offsets from their session's first one.
//! Field order, spelling and formatting are compared as sent.
//!
//! Each step waits for the frame that proves the relay handled it before the next step, so
//! every client's stream is the same on every run. `GOLDEN_RECORD=1 cargo test --test golden`
//! rewrites the file (only ever on purpose, from code whose wire is known to be right).

mod common;

use std::collections::HashMap;

use common::{TestServer, WAIT};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/session.txt");

/// Replaces what differs between runs with stable placeholders.
#[derive(Default)]
struct Normaliser {
    ids: HashMap<String, usize>,
    codes: Vec<String>,
    tokens: HashMap<String, usize>,
    /// The first `seq` of each session, in order of creation.
    seq_bases: Vec<u64>,
}

impl Normaliser {
    fn placeholder(map: &mut HashMap<String, usize>, key: &str) -> usize {
        let next = map.len();
        *map.entry(key.to_string()).or_insert(next)
    }

    fn text(&mut self, text: &str) -> String {
        let mut out = self.uuids(text);
        for (n, code) in self.codes.iter().enumerate() {
            out = out.replace(code.as_str(), &format!("<code {n}>"));
        }
        out = self.string_field(&out, "\"resume_token\":\"", |me, v| {
            format!("<token {}>", Self::placeholder(&mut me.tokens, v))
        });
        out = self.string_field(&out, "\"mac\":\"", |_, _| "<mac>".to_string());
        out = self.number_field(&out, "\"timestamp\":", |_, _| "<ms>".to_string());
        out = self.number_field(&out, "\"seq\":", |me, v| me.seq(v));
        times(&out)
    }

    fn seq(&self, raw: &str) -> String {
        let Ok(n) = raw.parse::<u64>() else {
            return raw.to_string();
        };
        match self
            .seq_bases
            .iter()
            .enumerate()
            .filter(|(_, base)| **base <= n)
            .max_by_key(|(_, base)| **base)
        {
            Some((session, base)) => format!("<seq {session}+{}>", n - base),
            None => raw.to_string(),
        }
    }

    fn uuids(&mut self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < bytes.len() {
            if i + 36 <= bytes.len() && is_uuid(&text[i..i + 36]) {
                let n = Self::placeholder(&mut self.ids, &text[i..i + 36]);
                out.push_str(&format!("<id {n}>"));
                i += 36;
            } else {
                let c = text[i..].chars().next().unwrap(); // ok: i is on a char boundary.
                out.push(c);
                i += c.len_utf8();
            }
        }
        out
    }

    fn string_field(
        &mut self,
        text: &str,
        key: &str,
        f: impl Fn(&mut Self, &str) -> String,
    ) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(key) {
            let (head, tail) = rest.split_at(at + key.len());
            out.push_str(head);
            let end = tail.find('"').unwrap_or(tail.len());
            out.push_str(&f(self, &tail[..end]));
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }

    fn number_field(
        &mut self,
        text: &str,
        key: &str,
        f: impl Fn(&mut Self, &str) -> String,
    ) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(key) {
            let (head, tail) = rest.split_at(at + key.len());
            out.push_str(head);
            let end = tail
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .unwrap_or(tail.len());
            out.push_str(&f(self, &tail[..end]));
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }
}

fn is_uuid(s: &str) -> bool {
    s.char_indices().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => c == '-',
        _ => c.is_ascii_hexdigit(),
    })
}

/// `2026-01-02T03:04:05.678Z` → `<time>`.
fn times(text: &str) -> String {
    const SHAPE: &str = "dddd-dd-ddTdd:dd:dd.dddZ";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let fits = i + SHAPE.len() <= bytes.len()
            && SHAPE.bytes().zip(&bytes[i..]).all(|(s, b)| match s {
                b'd' => b.is_ascii_digit(),
                _ => s == *b,
            });
        if fits {
            out.push_str("<time>");
            i += SHAPE.len();
        } else {
            let c = text[i..].chars().next().unwrap(); // ok: i is on a char boundary.
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The clients of the script, by name, and the transcript so far.
struct Replay {
    clients: HashMap<&'static str, common::Client>,
    norm: Normaliser,
    /// What the script filled in: `{code}`, `{token:NAME}`, `{id:NAME}`, `{seq:NAME}`.
    vars: HashMap<String, String>,
    transcript: String,
}

impl Replay {
    async fn connect(&mut self, server: &TestServer, who: &'static str) {
        self.clients.insert(who, server.client().await);
        self.transcript.push_str(&format!("** {who} connects\n"));
    }

    /// Sends `template` with its `{var}`s filled in; the transcript keeps the template.
    async fn send(&mut self, who: &'static str, template: &str) {
        let mut text = template.to_string();
        for (k, v) in &self.vars {
            text = text.replace(&format!("{{{k}}}"), v);
        }
        self.transcript.push_str(&format!("> {who} {template}\n"));
        let client = self.clients.get_mut(who).expect("a connected client");
        client.ws.send(Message::text(text)).await.unwrap();
    }

    async fn send_binary(&mut self, who: &'static str) {
        self.transcript
            .push_str(&format!("> {who} <binary 3 bytes>\n"));
        let client = self.clients.get_mut(who).expect("a connected client");
        client
            .ws
            .send(Message::binary(vec![1u8, 2, 3]))
            .await
            .unwrap();
    }

    /// Reads `who`'s frames up to and including one of type `kind` (or a close, for `"close"`).
    async fn until(&mut self, who: &'static str, kind: &str) -> Value {
        loop {
            let client = self.clients.get_mut(who).expect("a connected client");
            let next = tokio::time::timeout(WAIT, client.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{who}: no {kind} in time"));
            match next {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    self.learn(who, &value);
                    let line = self.norm.text(&text);
                    self.transcript.push_str(&format!("< {who} {line}\n"));
                    if value["type"] == kind {
                        return value;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or_default();
                    self.transcript
                        .push_str(&format!("< {who} close {code} {reason:?}\n"));
                    assert_eq!(kind, "close", "{who}: closed while waiting for {kind}");
                    return Value::Null;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("{who}: unexpected {other:?} while waiting for {kind}"),
            }
        }
    }

    /// Proves `who` has nothing pending: its `sync_request` is answered next.
    async fn settle(&mut self, who: &'static str) {
        self.send(who, r#"{"type":"sync_request"}"#).await;
        self.until(who, "sync_response").await;
    }

    /// Remembers what later frames of the script refer to.
    fn learn(&mut self, who: &str, value: &Value) {
        let kind = value["type"].as_str().unwrap_or("");
        if matches!(
            kind,
            "session_created" | "session_joined" | "session_resumed"
        ) {
            let session = &value["session"];
            let code = session["code"].as_str().unwrap_or("").to_string();
            if !self.norm.codes.contains(&code) {
                self.norm.codes.push(code.clone());
            }
            if kind == "session_created" {
                self.norm
                    .seq_bases
                    .push(session["seq"].as_u64().unwrap_or(0));
            }
            self.vars.insert(format!("code:{who}"), code);
            self.vars.insert(
                format!("id:{who}"),
                value["your_user_id"].as_str().unwrap_or("").to_string(),
            );
        }
        if let Some(token) = value["resume_token"].as_str() {
            self.vars.insert(format!("token:{who}"), token.to_string());
        }
        if let Some(seq) = value["seq"]
            .as_u64()
            .or_else(|| value["session"]["seq"].as_u64())
        {
            self.vars.insert(format!("seq:{who}"), seq.to_string());
        }
    }

    /// Drops `who`'s socket without a close frame.
    fn drop_socket(&mut self, who: &'static str) {
        self.clients.remove(who);
        self.transcript.push_str(&format!("** {who} drops\n"));
    }
}

async fn script(server: &mut TestServer) -> String {
    let mut r = Replay {
        clients: HashMap::new(),
        norm: Normaliser::default(),
        vars: HashMap::new(),
        transcript: String::new(),
    };
    // Every member declares the resume capability, so a dropped socket keeps its grace period.
    r.connect(server, "host").await;
    r.send(
        "host",
        r##"{"type":"create","name":"Friday  night\u0007","username":"Dee","familiar":{"variant":"ember","color":"#AABBCC","accent":"orbit","seed":7},"capabilities":["resume"]}"##,
    )
    .await;
    r.until("host", "session_created").await;

    r.connect(server, "guest").await;
    r.send(
        "guest",
        r#"{"type":"join_guest","code":"{code:host}","guest_name":"  Ana ","familiar":{"variant":"bogus","color":12},"capabilities":["resume"]}"#,
    )
    .await;
    r.until("guest", "session_joined").await;
    r.until("host", "user_joined").await;

    r.connect(server, "listener").await;
    r.send(
        "listener",
        r#"{"type":"join","code":"{code:host}","username":"Lou","capabilities":["resume"]}"#,
    )
    .await;
    r.until("listener", "session_joined").await;
    r.until("host", "user_joined").await;
    r.until("guest", "user_joined").await;

    // Playback and sync.
    r.send(
        "host",
        r#"{"type":"playback","track_id":"t-1","is_playing":true,"position_ms":1500.5,"track_meta":{"title":"Song","artist":"Band","bpm":120,"extra":"x"}}"#,
    )
    .await;
    r.until("guest", "playback_update").await;
    r.until("listener", "playback_update").await;
    r.settle("host").await;
    r.settle("guest").await;
    r.send("host", r#"{"type":"playback","track_id":null}"#)
        .await;
    r.until("guest", "playback_update").await;
    r.until("listener", "playback_update").await;
    r.send("guest", r#"{"type":"playback","is_playing":false}"#)
        .await;
    r.until("guest", "error").await;

    // Chat and reactions.
    r.send(
        "guest",
        r#"{"type":"chat","message":"hi \u2764\nthere\u0001"}"#,
    )
    .await;
    r.until("guest", "chat").await;
    r.until("host", "chat").await;
    r.until("listener", "chat").await;
    r.send("guest", r#"{"type":"chat","message":"   "}"#).await;
    r.until("guest", "error").await;
    let long = format!(r#"{{"type":"chat","message":"{}"}}"#, "a".repeat(1001));
    r.send("listener", &long).await;
    r.until("listener", "error").await;
    r.send("listener", r#"{"type":"reaction","kind":"cheer"}"#)
        .await;
    r.until("listener", "user_reaction").await;
    r.until("host", "user_reaction").await;
    r.until("guest", "user_reaction").await;
    r.send("listener", r#"{"type":"reaction","kind":"dance"}"#)
        .await;
    r.send("listener", r#"{"type":"reaction","kind":7}"#).await;
    r.settle("listener").await;

    // Familiars.
    r.send(
        "guest",
        r##"{"type":"update_familiar","familiar":{"variant":"prism","color":"#00ff00","accent":"ripple","seed":42}}"##,
    )
    .await;
    r.until("guest", "user_updated").await;
    r.until("host", "user_updated").await;
    r.until("listener", "user_updated").await;

    // The WebRTC arms.
    r.send("guest", r#"{"type":"webrtc_request"}"#).await;
    r.until("host", "webrtc_create_offer").await;
    r.send(
        "host",
        r#"{"type":"webrtc_offer","target_user_id":"{id:guest}","sdp":{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}"#,
    )
    .await;
    r.until("guest", "webrtc_offer").await;
    r.send(
        "guest",
        r#"{"type":"webrtc_answer","sdp":{ "type" : "answer", "sdp":"v=0\r\n" }}"#,
    )
    .await;
    r.until("host", "webrtc_answer").await;
    r.send(
        "guest",
        r#"{"type":"webrtc_ice","target_user_id":"{id:listener}","candidate":{"candidate":"candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host","sdpMid":"0","sdpMLineIndex":0}}"#,
    )
    .await;
    r.until("host", "webrtc_ice").await;
    r.send(
        "host",
        r#"{"type":"webrtc_ice","target_user_id":"{id:guest}","candidate":{"n":[1.0, 1E2, -0],"u":"\u00fc"}}"#,
    )
    .await;
    r.until("guest", "webrtc_ice").await;
    r.send("host", r#"{"type":"webrtc_ice","candidate":null}"#)
        .await;
    r.send(
        "host",
        r#"{"type":"webrtc_offer","target_user_id":"nobody","sdp":"x"}"#,
    )
    .await;
    r.settle("host").await;
    r.send(
        "guest",
        r#"{"type":"webrtc_connected","connected":true,"path":"turn"}"#,
    )
    .await;
    r.until("host", "webrtc_state_changed").await;
    r.until("listener", "webrtc_state_changed").await;
    r.send(
        "guest",
        r#"{"type":"webrtc_connected","connected":false,"failed_stage":"ice-gathering","path":"stun"}"#,
    )
    .await;
    r.until("host", "webrtc_state_changed").await;
    r.until("listener", "webrtc_state_changed").await;
    r.settle("guest").await;
    r.send("host", r#"{"type":"webrtc_request"}"#).await;
    r.until("host", "error").await;
    r.send(
        "guest",
        r#"{"type":"webrtc_offer","target_user_id":"{id:host}","sdp":1}"#,
    )
    .await;
    r.until("guest", "error").await;
    r.send("host", r#"{"type":"webrtc_answer","sdp":1}"#).await;
    r.until("host", "error").await;

    // Refusals at the frame level.
    r.send("guest", "{not json").await;
    r.until("guest", "error").await;
    r.send("guest", "[1,2]").await;
    r.until("guest", "error").await;
    r.send("guest", r#"{"kind":"chat"}"#).await;
    r.until("guest", "error").await;
    r.send("guest", r#"{"type":"resume"}"#).await;
    r.until("guest", "error").await;
    r.send("guest", r#"{"type":"dance"}"#).await;
    r.settle("guest").await;
    r.send_binary("guest").await;
    r.until("guest", "error").await;
    r.send("guest", r#"{"type":"create"}"#).await;
    r.until("guest", "error").await;
    r.send("guest", r#"{"type":"join","code":"{code:host}"}"#)
        .await;
    r.until("guest", "error").await;
    r.send(
        "guest",
        r#"{"type":"kick","target_user_id":"{id:listener}"}"#,
    )
    .await;
    r.until("guest", "error").await;
    r.send("host", r#"{"type":"kick","target_user_id":"{id:host}"}"#)
        .await;
    r.until("host", "error").await;

    // Joins that fail, and a second session with a password.
    r.connect(server, "stranger").await;
    r.send("stranger", r#"{"type":"join_guest","code":"ZZZZZZZZZZ"}"#)
        .await;
    r.until("stranger", "error").await;
    r.send("stranger", r#"{"type":"chat","message":"lost"}"#)
        .await;
    r.send("stranger", r#"{"type":"resume","token":"nonsense"}"#)
        .await;
    r.until("stranger", "error").await;
    r.send("stranger", r#"{"type":"leave"}"#).await;
    r.until("stranger", "left").await;
    r.connect(server, "host2").await;
    r.send(
        "host2",
        r#"{"type":"create","name":"Locked","username":"Mo","password":"pw","capabilities":["resume"]}"#,
    )
    .await;
    r.until("host2", "session_created").await;
    r.send(
        "stranger",
        r#"{"type":"join_guest","code":"{code:host2}","guest_name":"Sam","password":"nope","capabilities":["resume"]}"#,
    )
    .await;
    r.until("stranger", "error").await;
    r.send(
        "stranger",
        r#"{"type":"join_guest","code":"{code:host2}","guest_name":"Sam","password":"pw","capabilities":["resume"]}"#,
    )
    .await;
    r.until("stranger", "session_joined").await;
    r.until("host2", "user_joined").await;

    // Kick.
    r.send(
        "host",
        r#"{"type":"kick","target_user_id":"{id:listener}"}"#,
    )
    .await;
    r.until("listener", "close").await;
    r.until("guest", "user_left").await;
    r.until("host", "token_refreshed").await;
    r.drop_socket("listener");
    r.connect(server, "listener").await;
    r.send(
        "listener",
        r#"{"type":"resume","token":"{token:listener}"}"#,
    )
    .await;
    r.until("listener", "error").await;

    // Away and back: a dropped guest, its replay on resume, and a resume that replaces a socket.
    r.send("host", r#"{"type":"chat","message":"while you were out"}"#)
        .await;
    r.until("host", "chat").await;
    r.until("guest", "chat").await;
    r.vars.insert(
        "before_out".into(),
        r.vars.get("seq:guest").cloned().unwrap_or_default(),
    );
    r.drop_socket("guest");
    r.until("host", "user_away").await;
    r.send("host", r#"{"type":"chat","message":"missed"}"#)
        .await;
    r.until("host", "chat").await;
    r.send("host", r#"{"type":"playback","position_ms":99}"#)
        .await;
    r.settle("host").await;
    r.connect(server, "guest").await;
    r.send(
        "guest",
        r#"{"type":"resume","token":"{token:guest}","last_seq":{before_out}}"#,
    )
    .await;
    r.until("guest", "session_resumed").await;
    r.until("host", "user_back").await;
    r.settle("guest").await;
    r.connect(server, "guest_again").await;
    r.send(
        "guest_again",
        r#"{"type":"resume","token":"{token:guest}"}"#,
    )
    .await;
    r.until("guest_again", "session_resumed").await;
    r.until("guest", "close").await;
    r.settle("host").await;

    // Leave, then the host ends the session.
    r.connect(server, "late").await;
    r.send(
        "late",
        r#"{"type":"join_guest","code":"{code:host}","guest_name":"Late","capabilities":["resume"]}"#,
    )
    .await;
    r.until("late", "session_joined").await;
    r.until("host", "user_joined").await;
    r.until("guest_again", "user_joined").await;
    r.send("late", r#"{"type":"leave"}"#).await;
    r.until("late", "left").await;
    r.until("host", "user_left").await;
    r.until("guest_again", "user_left").await;
    r.send("host", r#"{"type":"leave"}"#).await;
    r.until("host", "left").await;
    r.until("guest_again", "session_ended").await;
    r.send("guest_again", r#"{"type":"chat","message":"anyone?"}"#)
        .await;
    r.send("guest_again", r#"{"type":"leave"}"#).await;
    r.until("guest_again", "left").await;
    r.send(
        "guest_again",
        r#"{"type":"resume","token":"{token:guest}"}"#,
    )
    .await;
    r.until("guest_again", "error").await;

    // Shutdown: the second session hears it and its sockets close with 1012.
    server.begin_stop();
    r.transcript.push_str("** relay stops\n");
    r.until("host2", "server_restarting").await;
    r.until("host2", "close").await;
    r.until("stranger", "server_restarting").await;
    r.until("stranger", "close").await;
    r.transcript
}

#[tokio::test]
async fn the_wire_is_the_recorded_one() {
    let mut server = TestServer::start_with(|c| {
        c.heartbeat_interval_ms = 3_600_000;
        c.resume_grace_ms = 60_000;
        c.stun_urls = vec!["stun:127.0.0.1:3478".into()];
    });
    let transcript = script(&mut server).await;
    if std::env::var_os("GOLDEN_RECORD").is_some() {
        std::fs::create_dir_all(std::path::Path::new(GOLDEN).parent().unwrap()).unwrap();
        std::fs::write(GOLDEN, &transcript).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(GOLDEN).expect("the recorded transcript");
    if transcript != golden {
        let first = transcript
            .lines()
            .zip(golden.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(transcript.lines().count().min(golden.lines().count()));
        panic!(
            "the wire changed at line {}:\n now: {}\n was: {}",
            first + 1,
            transcript.lines().nth(first).unwrap_or("<end>"),
            golden.lines().nth(first).unwrap_or("<end>")
        );
    }
}
