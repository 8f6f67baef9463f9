//! A fixed one-minute window counter: the registry counts failed joins per client IP with it,
//! each session its wrong passwords.

use std::time::{Duration, Instant};

/// Counts events in the current minute; the count resets a minute after the window opened.
#[derive(Debug, Clone, Copy)]
pub struct MinuteWindow {
    start: Instant,
    count: u32,
}

impl MinuteWindow {
    pub fn new() -> Self {
        MinuteWindow {
            start: Instant::now(),
            count: 0,
        }
    }

    fn roll(&mut self) {
        if self.start.elapsed() >= Duration::from_secs(60) {
            self.start = Instant::now();
            self.count = 0;
        }
    }

    /// Milliseconds until the window resets, when `limit` is already reached.
    pub fn blocked(&mut self, limit: u32) -> Option<u64> {
        self.roll();
        (self.count >= limit).then(|| {
            Duration::from_secs(60)
                .saturating_sub(self.start.elapsed())
                .as_millis() as u64
        })
    }

    pub fn record(&mut self) {
        self.roll();
        self.count = self.count.saturating_add(1);
    }
}

impl Default for MinuteWindow {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_once_the_limit_is_reached() {
        let mut window = MinuteWindow::new();
        assert_eq!(window.blocked(2), None);
        window.record();
        assert_eq!(window.blocked(2), None);
        window.record();
        let retry = window.blocked(2).expect("blocked at the limit");
        assert!(retry <= 60_000);
    }
}
