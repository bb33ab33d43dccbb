//! Counting what happened: latencies of successful requests and failures by code, per
//! operation, merged from every worker.
//!
//! Latencies are kept exactly (one `u32` of microseconds per request: 4 MB per million
//! requests) and sorted once at the end, so the percentiles are exact nearest-rank values,
//! not histogram estimates. Printing is [`super::report`]'s job.

use std::collections::BTreeMap;
use std::time::Duration;

use super::probe::CpuMark;
use super::workload::Op;

/// What one operation did in one phase.
#[derive(Debug, Default)]
pub struct OpStats {
    /// Latency of each successful request, in microseconds.
    latencies_us: Vec<u32>,
    /// Failed requests by error code (the API `Code`, or a transport label).
    pub errors: BTreeMap<String, u64>,
}

/// Latency summary of one operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Successful requests.
    pub ok: u64,
    /// Failed requests.
    pub failed: u64,
    /// Median latency, microseconds.
    pub p50_us: u32,
    /// 99th percentile, microseconds.
    pub p99_us: u32,
    /// 99.9th percentile, microseconds.
    pub p999_us: u32,
    /// Slowest request, microseconds.
    pub max_us: u32,
}

impl OpStats {
    /// Records a success.
    pub fn ok(&mut self, latency: Duration) {
        let us = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        self.latencies_us.push(us);
    }

    /// Records a failure with its code.
    pub fn failed(&mut self, code: &str) {
        *self.errors.entry(code.to_owned()).or_default() += 1;
    }

    /// Adds another worker's counts.
    pub fn merge(&mut self, other: OpStats) {
        self.latencies_us.extend(other.latencies_us);
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
    }

    /// Failed requests.
    pub fn failures(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Sorts the latencies and summarises them.
    pub fn summarise(&mut self) -> Summary {
        self.latencies_us.sort_unstable();
        let l = &self.latencies_us;
        Summary {
            ok: l.len() as u64,
            failed: self.failures(),
            p50_us: percentile(l, 500),
            p99_us: percentile(l, 990),
            p999_us: percentile(l, 999),
            max_us: l.last().copied().unwrap_or(0),
        }
    }
}

/// The nearest-rank percentile of sorted values, `per_mille` thousandths of the way up
/// (500 is the median, 999 is p99.9); 0 when there are none. Integer arithmetic, so p99.9
/// of 1000 values is exactly the 999th.
pub fn percentile(sorted: &[u32], per_mille: u64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len() as u64;
    let rank = (per_mille * n).div_ceil(1000).clamp(1, n);
    sorted[usize::try_from(rank - 1).unwrap_or(0)]
}

/// What one worker (and, merged, a whole phase) did.
#[derive(Debug, Default)]
pub struct PhaseStats {
    /// Per operation.
    pub ops: BTreeMap<Op, OpStats>,
    /// Time spent building and signing requests on the client.
    pub signing: Duration,
    /// KeyIds of keys created (only collected for --save-key-ids).
    pub key_ids: Vec<String>,
    /// Wall time of the phase (set once, after merging).
    pub elapsed: Duration,
    /// CPU used by the server and the bench during the phase (set once, after merging).
    pub cpu: CpuMark,
}

impl PhaseStats {
    /// The counters of `op`.
    pub fn op(&mut self, op: Op) -> &mut OpStats {
        self.ops.entry(op).or_default()
    }

    /// Adds another worker's counts.
    pub fn merge(&mut self, other: PhaseStats) {
        for (op, stats) in other.ops {
            self.op(op).merge(stats);
        }
        self.signing += other.signing;
        self.key_ids.extend(other.key_ids);
    }

    /// Requests that got an answer or failed, all operations together.
    pub fn requests(&self) -> u64 {
        self.ops
            .values()
            .map(|s| s.latencies_us.len() as u64 + s.failures())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile(&v, 500), 500);
        assert_eq!(percentile(&v, 990), 990);
        assert_eq!(percentile(&v, 999), 999);
        assert_eq!(percentile(&v, 1000), 1000);
        assert_eq!(percentile(&[7], 999), 7);
        assert_eq!(percentile(&[], 500), 0);
    }

    #[test]
    fn merging_adds_up() {
        let mut a = PhaseStats::default();
        a.op(Op::Encrypt).ok(Duration::from_micros(10));
        a.op(Op::Encrypt).failed("Forbidden.KeyNotFound");
        let mut b = PhaseStats::default();
        b.op(Op::Encrypt).ok(Duration::from_micros(30));
        b.op(Op::Encrypt).failed("Forbidden.KeyNotFound");
        b.op(Op::Decrypt).failed("transport: connection closed");
        a.merge(b);
        assert_eq!(a.requests(), 5);
        assert_eq!(a.op(Op::Decrypt).failures(), 1);
        let s = a.op(Op::Encrypt).summarise();
        assert_eq!((s.ok, s.failed, s.p50_us, s.max_us), (2, 2, 10, 30));
        assert_eq!(a.op(Op::Encrypt).errors["Forbidden.KeyNotFound"], 2);
    }
}
