//! How many lines requests that did not authenticate may write, and the summary of the rest.
//!
//! Anyone who can reach the port can send requests that fail authentication, so their lines
//! are bounded twice: each is compact (claimed values cut, see [`super::record`]), and at most
//! a budget of them is written per one-second window. The rest of the window's such requests
//! are counted, by source address for the first [`MAX_SOURCES`] addresses and together for the
//! others, and summarised in one `suppressed` line once the window is over (written by the
//! next such request or by the log's ticker, or when the log closes). Their requests are
//! answered as usual, without waiting for the disk: nothing happened that needs recording.
//!
//! The summary names the [`MAX_SOURCES`] heaviest sources of the window, found with the
//! space-saving algorithm (Metwally et al.): a source not yet counted takes the place of the
//! least counted one and inherits its count, recorded as the possible overcount `over`. So
//! every source that sent more than 1/[`MAX_SOURCES`] of the window's suppressed requests is
//! named, whatever the order they came in: filling the slots with a few junk requests from
//! other addresses first cannot hide a source that keeps guessing.
//! Requests that authenticated are never counted here.
//!
//! Deciding costs one short lock per unauthenticated request and nothing for the others.

use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::json;
use time::OffsetDateTime;

use super::record::timestamp;

/// Default number of unauthenticated requests written one by one per second.
pub const DEFAULT_UNAUTHENTICATED_PER_SECOND: u32 = 10;
/// The window the budget applies to.
pub const WINDOW: Duration = Duration::from_secs(1);
/// Addresses named in a summary: the heaviest of the window.
pub const MAX_SOURCES: usize = 8;
/// Upper bound of a summary line, `seq`, `prev` and newline included (checked by a test).
pub const MAX_SUMMARY_LINE: usize = 1280;

/// What to do with one unauthenticated request's line.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Write the line (else it is only counted).
    pub write: bool,
    /// The summary of the window just ended, to write first.
    pub summary: Option<String>,
}

/// The budget and the current window's counts.
#[derive(Debug)]
pub struct Flood {
    /// Lines written one by one per window.
    budget: u32,
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    /// `started` on the wall clock, for the summary.
    started_at: OffsetDateTime,
    written: u32,
    suppressed: u64,
    /// The heaviest sources so far (space-saving counters).
    sources: Vec<Heavy>,
    /// Suppressed requests with no known source address.
    other: u64,
}

/// One space-saving counter: a source, its count, and how much of it may be inherited.
#[derive(Debug, Clone, Copy)]
struct Heavy {
    ip: IpAddr,
    count: u64,
    over: u64,
}

impl Window {
    fn new(now: Instant) -> Self {
        Self {
            started: now,
            started_at: OffsetDateTime::now_utc(),
            written: 0,
            suppressed: 0,
            sources: Vec::new(),
            other: 0,
        }
    }

    fn count(&mut self, source: Option<IpAddr>) {
        self.suppressed += 1;
        let Some(ip) = source else {
            self.other += 1;
            return;
        };
        if let Some(entry) = self.sources.iter_mut().find(|h| h.ip == ip) {
            entry.count += 1;
        } else if self.sources.len() < MAX_SOURCES {
            self.sources.push(Heavy {
                ip,
                count: 1,
                over: 0,
            });
        } else if let Some(least) = self.sources.iter_mut().min_by_key(|h| h.count) {
            *least = Heavy {
                ip,
                count: least.count + 1,
                over: least.count,
            };
        }
    }

    /// The `suppressed` line's JSON object, if anything was suppressed.
    fn summary(&self, now: Instant) -> Option<String> {
        if self.suppressed == 0 {
            return None;
        }
        let span = now.saturating_duration_since(self.started).min(WINDOW);
        let sources: Vec<_> = self
            .sources
            .iter()
            .map(|h| json!({ "ip": h.ip.to_string(), "count": h.count, "over": h.over }))
            .collect();
        let value = json!({
            "time": timestamp(OffsetDateTime::now_utc()),
            "event": "suppressed",
            "from": timestamp(self.started_at),
            "until": timestamp(self.started_at + span),
            "count": self.suppressed,
            "sources": sources,
            "other_sources": self.other,
        });
        Some(value.to_string())
    }
}

impl Flood {
    /// At most `budget` lines per second written one by one.
    pub fn new(budget: u32) -> Self {
        Self {
            budget,
            window: Mutex::new(Window::new(Instant::now())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides for one unauthenticated request from `source`, arriving at `now`.
    pub fn admit(&self, source: Option<IpAddr>, now: Instant) -> Verdict {
        let mut window = self.lock();
        let summary = roll(&mut window, now);
        let write = window.written < self.budget;
        match write {
            true => window.written += 1,
            false => window.count(source),
        }
        Verdict { write, summary }
    }

    /// The summary of the window if it is over (a new one starts), for the ticker.
    pub fn take_due(&self, now: Instant) -> Option<String> {
        roll(&mut self.lock(), now)
    }

    /// The summary of what the current window suppressed so far, at close.
    pub fn take_all(&self) -> Option<String> {
        let now = Instant::now();
        let mut window = self.lock();
        let summary = window.summary(now);
        *window = Window::new(now);
        summary
    }
}

/// Starts a new window when the current one is over; the old one's summary.
fn roll(window: &mut Window, now: Instant) -> Option<String> {
    if now.saturating_duration_since(window.started) < WINDOW {
        return None;
    }
    let summary = window.summary(now);
    *window = Window::new(now);
    summary
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::audit::Link;

    #[test]
    fn the_budget_is_per_window_and_the_rest_is_summarised() {
        let flood = Flood::new(3);
        let t0 = Instant::now();
        let ip = |n: u8| Some(IpAddr::from([10, 0, 0, n]));
        let written: Vec<bool> = (0..10).map(|i| flood.admit(ip(i % 2), t0).write).collect();
        assert_eq!(written.iter().filter(|w| **w).count(), 3);
        assert_eq!(flood.take_due(t0), None, "the window is not over");
        let next = flood.admit(ip(1), t0 + WINDOW);
        assert!(next.write, "a new window, a new budget");
        let summary: serde_json::Value = serde_json::from_str(&next.summary.unwrap()).unwrap();
        assert_eq!(summary["event"], "suppressed");
        assert_eq!(summary["count"], 7);
        assert_eq!(summary["sources"].as_array().unwrap().len(), 2);
        assert_eq!(flood.take_due(t0 + WINDOW * 3), None, "nothing suppressed");
    }

    #[test]
    fn a_source_that_keeps_guessing_is_named_however_the_slots_were_filled() {
        let flood = Flood::new(0);
        let t0 = Instant::now();
        let ip = |n: u8| Some(IpAddr::from([127, 0, 0, n]));
        // Junk from eight addresses first fills every slot, then one address guesses 30 times.
        for n in 2..=9 {
            flood.admit(ip(n), t0);
        }
        for _ in 0..30 {
            flood.admit(ip(66), t0);
        }
        let v: serde_json::Value = serde_json::from_str(&flood.take_all().unwrap()).unwrap();
        let sources = v["sources"].as_array().unwrap();
        let guesser = sources.iter().find(|s| s["ip"] == "127.0.0.66").unwrap();
        let (count, over) = (guesser["count"].as_u64(), guesser["over"].as_u64());
        assert!(count.unwrap() - over.unwrap() <= 30 && count.unwrap() >= 30);
        assert_eq!(v["count"], 38);
    }

    #[test]
    fn a_summary_is_bounded_however_many_sources() {
        let flood = Flood::new(0);
        let t0 = Instant::now();
        for i in 0..100u8 {
            assert!(!flood.admit(Some(IpAddr::from([10, 0, 0, i])), t0).write);
        }
        flood.admit(None, t0);
        let v: serde_json::Value = serde_json::from_str(&flood.take_all().unwrap()).unwrap();
        assert_eq!(v["sources"].as_array().unwrap().len(), MAX_SOURCES);
        assert_eq!(
            (v["count"].as_u64(), v["other_sources"].as_u64()),
            (Some(101), Some(1))
        );
        assert_eq!(flood.take_all(), None);
        // The longest summary: every count at its maximum, the longest addresses.
        let longest = IpAddr::from([
            0xffff_u16, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
        ]);
        let window = Window {
            suppressed: u64::MAX,
            sources: vec![
                Heavy {
                    ip: longest,
                    count: u64::MAX,
                    over: u64::MAX,
                };
                MAX_SOURCES
            ],
            other: u64::MAX,
            ..Window::new(t0)
        };
        let mut line = Vec::new();
        let link = Link {
            seq: u64::MAX - 1,
            hash: "f".repeat(64),
        };
        link.append(&window.summary(t0).unwrap(), &mut line);
        assert!(line.len() <= MAX_SUMMARY_LINE, "{}", line.len());
    }
}
