//! The relay's Prometheus metrics, shared by every actor through one `Arc<Metrics>`. Counters
//! and gauges are atomics, so recording never takes a lock or sends a message. The binary
//! serves `encode()` on the private metrics port.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// One label, with a static name and value (every label value here comes from a closed set).
pub type Label = [(&'static str, &'static str); 1];

/// A counter family keyed by one static label.
pub type LabeledCounter = Family<Label, Counter>;

/// Every metric the relay exports. Field docs are the metric help texts.
pub struct Metrics {
    registry: Registry,
    /// Sessions alive now.
    pub sessions_live: Gauge,
    /// Participants in sessions now (away ones included).
    pub participants_live: Gauge,
    /// WebSocket connections open now.
    pub sockets_live: Gauge,
    /// Sessions created since start.
    pub sessions_created: Counter,
    /// Join attempts by outcome: joined, not_found, wrong_password, full, rate_limited.
    pub joins: LabeledCounter,
    /// Client messages received, by type.
    pub messages_in: LabeledCounter,
    /// Client messages dropped by the rate limiter, by type.
    pub rate_limited: LabeledCounter,
    /// `error` frames sent, by code.
    pub errors_sent: LabeledCounter,
    /// Sockets closed, by reason.
    pub sockets_closed: LabeledCounter,
    /// Requests refused by a per-address cap: `sockets_per_ip` (upgrade answered 429),
    /// `sessions_per_ip` (`create` answered `too_many_sessions`).
    pub refused: LabeledCounter,
    /// ICE outcomes reported by guests: direct, stun, turn, failed.
    pub ice_outcomes: LabeledCounter,
    /// Cloudflare TURN mint requests by outcome: ok, error.
    pub turn_mints: LabeledCounter,
    /// Cloudflare TURN mint latency in seconds.
    pub turn_mint_seconds: Histogram,
    /// Resume attempts by outcome.
    pub resumes: LabeledCounter,
    /// Chat and reactions re-sent with an id already relayed, so not relayed again.
    pub repeats_dropped: LabeledCounter,
    /// Frames members handed back in `history` after a restart, by outcome: taken (new to the
    /// relay, passed on to who lacked them), known (already held), refused (bad seal or seq).
    pub history_entries: LabeledCounter,
    /// Seconds from a join request reaching the relay to `session_joined` being queued.
    pub join_seconds: Histogram,
    /// Seconds from a relayed message arriving to it being queued for its recipients.
    pub relay_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("familiar");
        let metrics_seconds = || Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        let m = Metrics {
            sessions_live: Gauge::default(),
            participants_live: Gauge::default(),
            sockets_live: Gauge::default(),
            sessions_created: Counter::default(),
            joins: Family::default(),
            messages_in: Family::default(),
            rate_limited: Family::default(),
            errors_sent: Family::default(),
            sockets_closed: Family::default(),
            refused: Family::default(),
            ice_outcomes: Family::default(),
            turn_mints: Family::default(),
            turn_mint_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 12)),
            resumes: Family::default(),
            repeats_dropped: Family::default(),
            history_entries: Family::default(),
            join_seconds: metrics_seconds(),
            relay_seconds: metrics_seconds(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "sessions_live",
            "Sessions alive now",
            m.sessions_live.clone(),
        );
        r.register(
            "participants_live",
            "Participants in sessions now",
            m.participants_live.clone(),
        );
        r.register(
            "sockets_live",
            "WebSocket connections open now",
            m.sockets_live.clone(),
        );
        r.register(
            "sessions_created",
            "Sessions created since start",
            m.sessions_created.clone(),
        );
        r.register("joins", "Join attempts by outcome", m.joins.clone());
        r.register(
            "messages_in",
            "Client messages received by type",
            m.messages_in.clone(),
        );
        r.register(
            "rate_limited",
            "Client messages dropped by the rate limiter by type",
            m.rate_limited.clone(),
        );
        r.register(
            "errors_sent",
            "Error frames sent by code",
            m.errors_sent.clone(),
        );
        r.register(
            "sockets_closed",
            "Sockets closed by reason",
            m.sockets_closed.clone(),
        );
        r.register(
            "refused",
            "Requests refused by a per-address cap by reason",
            m.refused.clone(),
        );
        r.register(
            "ice_outcomes",
            "ICE outcomes reported by guests",
            m.ice_outcomes.clone(),
        );
        r.register(
            "turn_mints",
            "Cloudflare TURN mint requests by outcome",
            m.turn_mints.clone(),
        );
        r.register(
            "turn_mint_seconds",
            "Cloudflare TURN mint latency",
            m.turn_mint_seconds.clone(),
        );
        r.register("resumes", "Resume attempts by outcome", m.resumes.clone());
        r.register(
            "repeats_dropped",
            "Chat and reactions re-sent with an id already relayed",
            m.repeats_dropped.clone(),
        );
        r.register(
            "history_entries",
            "Frames handed back in history by outcome",
            m.history_entries.clone(),
        );
        r.register(
            "join_seconds",
            "Join request to session_joined queued",
            m.join_seconds.clone(),
        );
        r.register(
            "relay_seconds",
            "Relayed message arrival to queued for recipients",
            m.relay_seconds.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts one event in a labeled family.
    pub fn inc(family: &LabeledCounter, name: &'static str, value: &'static str) {
        family.get_or_create(&[(name, value)]).inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("encode into String"); // ok: writing into a String cannot fail.
        out
    }
}
