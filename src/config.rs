//! The relay's configuration: one `clap` struct, every field settable by flag or environment
//! variable, so `familiar-sessions --help` is the configuration reference. Defaults are safe:
//! no TURN, no secrets, loopback-friendly.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use familiar_actors::limits::Limits;

use crate::cluster::ClusterConfig;
use crate::rate::{Rate, Rates};
use crate::turn::{CloudflareTurn, StaticTurn, TurnConfig, DEFAULT_CLOUDFLARE_API_BASE};

/// Public WebRTC signaling relay and guest web app for Familiar listening sessions.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
pub struct Config {
    /// Port for the public HTTP and WebSocket service.
    #[arg(long, env = "PORT", default_value_t = 8000)]
    pub port: u16,

    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "0.0.0.0")]
    pub host: String,

    /// Port for Prometheus `/metrics`, kept off the public port. 0 turns it off.
    #[arg(long, env = "METRICS_PORT", default_value_t = 9091)]
    pub metrics_port: u16,

    /// Address the metrics port listens on.
    #[arg(long, env = "METRICS_HOST", default_value = "0.0.0.0")]
    pub metrics_host: String,

    /// Connections the kernel queues for each port (public and metrics) before the relay
    /// accepts them. Past it, new connections' SYNs are dropped and retried only after a
    /// second: a link posted to a big group chat brings hundreds of joins at once. The kernel
    /// caps it at `net.core.somaxconn` (4096 on current Linux).
    #[arg(long, env = "LISTEN_BACKLOG", default_value_t = 4096)]
    pub listen_backlog: u32,

    /// Where the built guest app lives (`index.html`, `assets/`).
    #[arg(long, env = "STATIC_DIR", default_value = "static")]
    pub static_dir: PathBuf,

    /// Live sessions at once.
    #[arg(long, env = "MAX_SESSIONS", default_value_t = 50)]
    pub max_sessions: usize,

    /// Participants per session, host included.
    #[arg(long, env = "MAX_PARTICIPANTS", default_value_t = 32)]
    pub max_participants: usize,

    /// Participant names are cut to this many characters.
    #[arg(long, env = "MAX_NAME_CHARS", default_value_t = 40)]
    pub max_name_chars: usize,

    /// Session names are cut to this many characters.
    #[arg(long, env = "MAX_SESSION_NAME_CHARS", default_value_t = 80)]
    pub max_session_name_chars: usize,

    /// Chat messages longer than this many characters are refused with an error.
    #[arg(long, env = "MAX_CHAT_CHARS", default_value_t = 1000)]
    pub max_chat_chars: usize,

    /// Passwords longer than this many bytes are refused (create: an error; join: wrong password).
    #[arg(long, env = "MAX_PASSWORD_BYTES", default_value_t = 256)]
    pub max_password_bytes: usize,

    /// Largest WebSocket frame accepted; a bigger one closes the socket with 1009.
    #[arg(long, env = "MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    pub max_frame_bytes: usize,

    /// Bytes waiting for one client, beyond the socket's own buffers, before it counts as not
    /// reading and is disconnected (`slow_reader`). 1 MiB is minutes of a busy session's chat.
    #[arg(long, env = "OUTBOUND_MAX_BYTES", default_value_t = 1024 * 1024)]
    pub outbound_max_bytes: usize,

    /// Milliseconds a client's backlog may wait without the socket taking a single frame of it
    /// before the client counts as not reading and is disconnected (`slow_reader`).
    #[arg(long, env = "SLOW_READER_MS", default_value_t = 5_000)]
    pub slow_reader_ms: u64,

    /// Deprecated and ignored (a warning at start): the backlog is judged by bytes and time,
    /// OUTBOUND_MAX_BYTES and SLOW_READER_MS, no longer by frame count.
    #[arg(long, env = "OUTBOUND_QUEUE")]
    pub outbound_queue: Option<usize>,

    /// Milliseconds a socket may stay in no session without asking to enter one (`create`,
    /// `join`, `join_guest`, `resume`): after the upgrade, after `leave`, after its session ended,
    /// after a refusal (plus any `retry_after_ms` it carried). Then it is closed with 4008
    /// "handshake timeout". 0: no window.
    #[arg(long, env = "HANDSHAKE_TIMEOUT_MS", default_value_t = 10_000)]
    pub handshake_timeout_ms: u64,

    /// Open WebSockets from one client address (IPv4, or IPv6 /64); the next upgrade gets 429
    /// with `Retry-After`. 256 is eight full sessions behind one NAT. 0: no cap.
    #[arg(long, env = "MAX_SOCKETS_PER_IP", default_value_t = 256)]
    pub max_sockets_per_ip: usize,

    /// Live sessions hosted from one client address (IPv4, or IPv6 /64); the next `create` gets
    /// `too_many_sessions`. 5 is a tenth of the default MAX_SESSIONS. 0: no cap.
    #[arg(long, env = "MAX_SESSIONS_PER_IP", default_value_t = 5)]
    pub max_sessions_per_ip: usize,

    /// STUN URLs handed to every member, comma-separated. Empty: no STUN.
    #[arg(
        long,
        env = "STUN_URLS",
        default_value = "stun:stun.l.google.com:19302,stun:stun1.l.google.com:19302",
        value_delimiter = ','
    )]
    pub stun_urls: Vec<String>,

    /// A static TURN server (e.g. `turn:turn.example.com:3478`), appended to the ICE servers.
    #[arg(long, env = "TURN_SERVER_URL")]
    pub turn_server_url: Option<String>,

    /// Username for the static TURN server.
    #[arg(long, env = "TURN_SERVER_USERNAME", hide_env_values = true)]
    pub turn_server_username: Option<String>,

    /// Credential for the static TURN server.
    #[arg(long, env = "TURN_SERVER_CREDENTIAL", hide_env_values = true)]
    pub turn_server_credential: Option<String>,

    /// Cloudflare Realtime TURN key id; with the API token, turns on minted TURN.
    #[arg(long, env = "CLOUDFLARE_TURN_TOKEN_ID", hide_env_values = true)]
    pub cloudflare_turn_token_id: Option<String>,

    /// Cloudflare Realtime TURN API token.
    #[arg(long, env = "CLOUDFLARE_TURN_API_TOKEN", hide_env_values = true)]
    pub cloudflare_turn_api_token: Option<String>,

    /// Base URL of the Cloudflare Realtime API (tests point it at loopback).
    #[arg(long, env = "CLOUDFLARE_TURN_API_BASE", default_value = DEFAULT_CLOUDFLARE_API_BASE)]
    pub cloudflare_turn_api_base: String,

    /// Lifetime of minted TURN credentials in seconds; refreshed at 90 %.
    #[arg(long, env = "CLOUDFLARE_TURN_TTL_SECS", default_value_t = 86_400)]
    pub cloudflare_turn_ttl_secs: u64,

    /// Origins allowed to open the WebSocket, comma-separated. Empty: any origin (hosts run
    /// Familiar on their own addresses).
    #[arg(long, env = "ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Take the client IP from `Fly-Client-IP` (only behind Fly's proxy, which sets it).
    #[arg(long, env = "TRUST_FLY_CLIENT_IP", default_value_t = false)]
    pub trust_fly_client_ip: bool,

    /// WebSocket ping interval in milliseconds.
    #[arg(long, env = "PING_INTERVAL_MS", default_value_t = 15_000)]
    pub ping_interval_ms: u64,

    /// A peer silent for this many milliseconds is dropped and handled as a disconnect. Also each
    /// accepted connection's TCP_USER_TIMEOUT: the kernel drops one whose peer acknowledged
    /// nothing (or kept its window shut) that long.
    #[arg(long, env = "IDLE_TIMEOUT_MS", default_value_t = 45_000)]
    pub idle_timeout_ms: u64,

    /// Playback heartbeat interval in milliseconds.
    #[arg(long, env = "HEARTBEAT_INTERVAL_MS", default_value_t = 5_000)]
    pub heartbeat_interval_ms: u64,

    /// How long a participant whose socket dropped is kept as away, in milliseconds.
    #[arg(long, env = "RESUME_GRACE_MS", default_value_t = 30_000)]
    pub resume_grace_ms: u64,

    /// Secret that signs resume tokens. Unset: a random one per process, so resume works
    /// across dropped sockets but not across restarts.
    #[arg(long, env = "SESSION_SECRET", hide_env_values = true)]
    pub session_secret: Option<String>,

    /// How long a resume token stays valid, in seconds.
    #[arg(long, env = "TOKEN_TTL_SECS", default_value_t = 86_400)]
    pub token_ttl_secs: u64,

    /// Chat and reactions kept per session for replay on resume.
    #[arg(long, env = "REPLAY_BUFFER", default_value_t = 200)]
    pub replay_buffer: usize,

    /// What `server_restarting` tells clients to wait, in milliseconds.
    #[arg(long, env = "RESTART_RETRY_AFTER_MS", default_value_t = 250)]
    pub restart_retry_after_ms: u64,

    /// The longest shutdown waits for sockets to close after notifying them, in milliseconds.
    #[arg(long, env = "SHUTDOWN_DRAIN_MS", default_value_t = 3_000)]
    pub shutdown_drain_ms: u64,

    /// Chat and reactions per second per connection (sustained).
    #[arg(long, env = "RATE_CHAT_PER_SEC", default_value_t = 2.0)]
    pub rate_chat_per_sec: f64,

    /// Chat and reactions in a burst per connection.
    #[arg(long, env = "RATE_CHAT_BURST", default_value_t = 10.0)]
    pub rate_chat_burst: f64,

    /// WebRTC signaling messages per second per connection (sustained; ICE comes in bursts).
    #[arg(long, env = "RATE_SIGNAL_PER_SEC", default_value_t = 100.0)]
    pub rate_signal_per_sec: f64,

    /// WebRTC signaling messages in a burst per connection.
    #[arg(long, env = "RATE_SIGNAL_BURST", default_value_t = 300.0)]
    pub rate_signal_burst: f64,

    /// Other messages (playback, joins, familiar updates, kicks …) per second per connection.
    #[arg(long, env = "RATE_OTHER_PER_SEC", default_value_t = 10.0)]
    pub rate_other_per_sec: f64,

    /// Other messages in a burst per connection.
    #[arg(long, env = "RATE_OTHER_BURST", default_value_t = 30.0)]
    pub rate_other_burst: f64,

    /// Rate-limited messages within 10 s after which the socket is closed with 1008.
    #[arg(long, env = "RATE_FLOOD_STRIKES", default_value_t = 50)]
    pub rate_flood_strikes: u32,

    /// Failed joins (unknown code, wrong password, bad token) per client IP per minute.
    #[arg(long, env = "JOIN_FAILURES_PER_MINUTE", default_value_t = 30)]
    pub join_failures_per_minute: u32,

    /// Wrong passwords per session per minute.
    #[arg(long, env = "WRONG_PASSWORDS_PER_MINUTE", default_value_t = 10)]
    pub wrong_passwords_per_minute: u32,

    /// Dedicated threads for session actors. 0: each session runs on the worker thread of the
    /// connection that created it, so its host's messages reach it without crossing threads
    /// (measured: 7–14 % less relay CPU at 55,000 msgs/s than two dedicated threads).
    #[arg(long, env = "SESSION_THREADS", default_value_t = 0)]
    pub session_threads: usize,

    /// HTTP worker threads (they run the connection actors). 0: one per CPU.
    #[arg(long, env = "WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// Several machines as one service (`PEERS`, `MACHINE_ID`, Fly's variables).
    #[command(flatten)]
    pub cluster: ClusterConfig,
}

impl Config {
    /// The limits the core enforces.
    pub fn limits(&self) -> Limits {
        Limits {
            max_sessions: self.max_sessions,
            max_sessions_per_ip: self.max_sessions_per_ip,
            max_participants: self.max_participants.max(1),
            max_name_chars: self.max_name_chars.max(1),
            max_session_name_chars: self.max_session_name_chars.max(1),
            max_chat_chars: self.max_chat_chars,
            max_password_bytes: self.max_password_bytes,
            heartbeat_interval: Duration::from_millis(self.heartbeat_interval_ms.max(10)),
            grace_period: Duration::from_millis(self.resume_grace_ms),
            replay_buffer: self.replay_buffer,
            wrong_passwords_per_minute: self.wrong_passwords_per_minute,
            join_failures_per_minute: self.join_failures_per_minute,
            token_ttl: Duration::from_secs(self.token_ttl_secs),
        }
    }

    /// Where the ICE server list comes from.
    pub fn turn(&self) -> TurnConfig {
        fn present(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let static_turn = present(&self.turn_server_url).map(|url| StaticTurn {
            url: url.to_string(),
            username: present(&self.turn_server_username)
                .unwrap_or("")
                .to_string(),
            credential: present(&self.turn_server_credential)
                .unwrap_or("")
                .to_string(),
        });
        let cloudflare = match (
            present(&self.cloudflare_turn_token_id),
            present(&self.cloudflare_turn_api_token),
        ) {
            (Some(id), Some(token)) => Some(CloudflareTurn {
                api_base: self.cloudflare_turn_api_base.clone(),
                ttl_secs: self.cloudflare_turn_ttl_secs,
                ..CloudflareTurn::new(id, token)
            }),
            _ => None,
        };
        TurnConfig {
            stun_urls: self
                .stun_urls
                .iter()
                .map(|u| u.trim().to_string())
                .filter(|u| !u.is_empty())
                .collect(),
            static_turn,
            cloudflare,
            ..TurnConfig::default()
        }
    }

    /// Settings that still parse but no longer do anything, to log at start.
    pub fn deprecations(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.outbound_queue.is_some() {
            out.push(
                "OUTBOUND_QUEUE is deprecated and ignored: a slow reader is judged by \
                 OUTBOUND_MAX_BYTES and SLOW_READER_MS",
            );
        }
        out
    }

    /// The ping interval, never more than half the idle timeout (a ping must get an answer
    /// before the peer is judged silent).
    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms.min(self.idle_timeout_ms / 2).max(10))
    }

    /// The handshake window; `None` when turned off.
    pub fn handshake_timeout(&self) -> Option<Duration> {
        (self.handshake_timeout_ms > 0).then(|| Duration::from_millis(self.handshake_timeout_ms))
    }

    /// How long a backlog may stall before its client counts as not reading.
    pub fn slow_reader(&self) -> Duration {
        Duration::from_millis(self.slow_reader_ms.max(1))
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms.max(20))
    }

    /// The configuration from the environment alone, no flags (tests start from it). Fails
    /// only when an environment variable holds an invalid value.
    pub fn from_env() -> Result<Self, clap::Error> {
        Config::try_parse_from(["familiar-sessions"])
    }
}

impl Config {
    /// The per-connection rate limits of the three classes of message.
    pub fn rates(&self) -> Rates {
        Rates {
            chat: Rate {
                per_sec: self.rate_chat_per_sec,
                burst: self.rate_chat_burst.max(1.0),
            },
            signal: Rate {
                per_sec: self.rate_signal_per_sec,
                burst: self.rate_signal_burst.max(1.0),
            },
            other: Rate {
                per_sec: self.rate_other_per_sec,
                burst: self.rate_other_burst.max(1.0),
            },
        }
    }
}
