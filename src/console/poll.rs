//! When to fetch what: adaptive intervals (fast while something runs, slow when idle), jitter,
//! exponential back-off after throttling or failures, and the data-age / stale / offline state.

use std::collections::HashMap;

/// Interval while an execution, build or deployment is running.
pub const FAST_SECONDS: f64 = 2.0;
/// Longest wait between attempts while backing off.
pub const MAX_BACKOFF_SECONDS: f64 = 120.0;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PollEntry {
    pub last_ok: Option<f64>,
    pub next_due: f64,
    pub in_flight: bool,
    /// Consecutive failures (drives the back-off).
    pub failures: u32,
}

/// What the header shows about the freshness of the data.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    Fresh,
    /// Calls fail (or are throttled) but the service answers: data is getting old.
    Stale {
        reason: String,
    },
    /// The endpoint cannot be reached at all.
    Offline {
        reason: String,
    },
}

#[derive(Debug, Default)]
pub struct Polls {
    entries: HashMap<String, PollEntry>,
    /// xorshift state for jitter: deterministic, so reducer tests are repeatable.
    seed: u64,
    /// Last time any call succeeded.
    pub last_ok: Option<f64>,
    /// Consecutive failed calls across all requests.
    pub failing: u32,
    pub last_error: Option<String>,
    pub unreachable: bool,
    /// No call starts before this time (set by throttling).
    pub throttled_until: f64,
}

impl Polls {
    fn jitter(&mut self, base: f64) -> f64 {
        if self.seed == 0 {
            self.seed = 0x9E37_79B9_7F4A_7C15;
        }
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let unit = (self.seed % 1000) as f64 / 1000.0;
        base * (0.9 + 0.2 * unit)
    }

    pub fn entry(&self, key: &str) -> Option<&PollEntry> {
        self.entries.get(key)
    }

    /// Whether `key` should be fetched now.
    pub fn due(&self, key: &str, now: f64) -> bool {
        if now < self.throttled_until {
            return false;
        }
        match self.entries.get(key) {
            Some(e) => !e.in_flight && now >= e.next_due,
            None => true,
        }
    }

    pub fn started(&mut self, key: &str) {
        self.entries.entry(key.to_string()).or_default().in_flight = true;
    }

    /// Forces the next tick to fetch `key` (user pressed refresh, or navigated).
    pub fn expire(&mut self, key: &str) {
        if let Some(e) = self.entries.get_mut(key) {
            e.next_due = 0.0;
        }
    }

    /// Everything falls due (the refresh key); throttling back-off still applies.
    pub fn expire_all(&mut self) {
        for e in self.entries.values_mut() {
            e.next_due = 0.0;
        }
    }

    pub fn succeeded(&mut self, key: &str, now: f64, interval: f64) {
        let next = now + self.jitter(interval);
        let e = self.entries.entry(key.to_string()).or_default();
        e.in_flight = false;
        e.failures = 0;
        e.last_ok = Some(now);
        e.next_due = next;
        self.last_ok = Some(now);
        self.failing = 0;
        self.unreachable = false;
        self.last_error = None;
    }

    /// Records a failure and schedules the retry with exponential back-off.
    pub fn failed(
        &mut self,
        key: &str,
        now: f64,
        interval: f64,
        error: &str,
        throttled: bool,
        unreachable: bool,
    ) {
        let failures = self.entries.get(key).map_or(0, |e| e.failures) + 1;
        let backoff = (interval * 2f64.powi(failures.min(16) as i32)).min(MAX_BACKOFF_SECONDS);
        let wait = self.jitter(backoff);
        let e = self.entries.entry(key.to_string()).or_default();
        e.in_flight = false;
        e.failures = failures;
        e.next_due = now + wait;
        self.failing += 1;
        self.unreachable = unreachable;
        self.last_error = Some(error.to_string());
        if throttled {
            self.throttled_until = self.throttled_until.max(now + wait);
        }
    }

    /// Freshness for the banner: failing calls, or data older than three slow intervals.
    pub fn health(&self, now: f64, slow_interval: f64) -> Health {
        if self.failing > 0 {
            let reason = self.last_error.clone().unwrap_or_default();
            return if self.unreachable {
                Health::Offline { reason }
            } else {
                Health::Stale { reason }
            };
        }
        match self.last_ok {
            Some(t) if now - t > 3.0 * slow_interval => Health::Stale {
                reason: format!("no update for {}", super::format::duration(now - t)),
            },
            _ => Health::Fresh,
        }
    }
}
