//! Per-connection rate limits: which class a message belongs to, the configured rate of each
//! class, and the token buckets a connection spends from.

use std::time::Instant;

use familiar_actors::protocol::ClientMessage;

/// The classes of message, each with its own bucket, so a burst of ICE candidates never eats
/// the allowance for chat and the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateClass {
    /// Chat and reactions: what people type.
    Chat,
    /// WebRTC signaling: bursts of candidates while a call sets up.
    Signal,
    /// Everything else: playback, joins, familiar updates, kicks.
    Other,
}

impl RateClass {
    pub fn of(msg: &ClientMessage) -> Self {
        match msg {
            ClientMessage::Chat { .. } | ClientMessage::Reaction { .. } => RateClass::Chat,
            ClientMessage::WebrtcRequest {}
            | ClientMessage::WebrtcOffer { .. }
            | ClientMessage::WebrtcAnswer { .. }
            | ClientMessage::WebrtcIce { .. }
            | ClientMessage::WebrtcConnected { .. } => RateClass::Signal,
            _ => RateClass::Other,
        }
    }
}

/// Per-connection rate limit of one class of message: a token bucket.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_sec: f64,
    pub burst: f64,
}

/// The configured rate of each class.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    pub chat: Rate,
    pub signal: Rate,
    pub other: Rate,
}

impl Rates {
    pub fn of(&self, class: RateClass) -> Rate {
        match class {
            RateClass::Chat => self.chat,
            RateClass::Signal => self.signal,
            RateClass::Other => self.other,
        }
    }
}

/// A token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn full(rate: Rate) -> Self {
        Bucket {
            tokens: rate.burst,
            last: Instant::now(),
        }
    }

    /// Takes one token, or says in how many milliseconds one will be there.
    fn take(&mut self, rate: Rate) -> Result<(), u64> {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * rate.per_sec;
        self.tokens = (self.tokens + refill).min(rate.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if rate.per_sec > 0.0 {
            Err((((1.0 - self.tokens) / rate.per_sec) * 1000.0).ceil() as u64)
        } else {
            Err(60_000)
        }
    }
}

/// One connection's buckets, one per class.
#[derive(Debug, Clone)]
pub struct Buckets {
    rates: Rates,
    chat: Bucket,
    signal: Bucket,
    other: Bucket,
}

impl Buckets {
    /// Full buckets for `rates`.
    pub fn new(rates: Rates) -> Self {
        Buckets {
            rates,
            chat: Bucket::full(rates.chat),
            signal: Bucket::full(rates.signal),
            other: Bucket::full(rates.other),
        }
    }

    /// Spends one token of `class`, or says in how many milliseconds one will be there.
    pub fn take(&mut self, class: RateClass) -> Result<(), u64> {
        let rate = self.rates.of(class);
        let bucket = match class {
            RateClass::Chat => &mut self.chat,
            RateClass::Signal => &mut self.signal,
            RateClass::Other => &mut self.other,
        };
        bucket.take(rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_have_their_own_buckets() {
        let one = Rate {
            per_sec: 0.0,
            burst: 1.0,
        };
        let mut buckets = Buckets::new(Rates {
            chat: one,
            signal: one,
            other: one,
        });
        assert_eq!(buckets.take(RateClass::Chat), Ok(()));
        assert_eq!(buckets.take(RateClass::Chat), Err(60_000));
        assert_eq!(buckets.take(RateClass::Signal), Ok(()));
        assert_eq!(buckets.take(RateClass::Other), Ok(()));
    }
}
