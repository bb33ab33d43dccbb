//! The load: one worker per connection, each with one request in flight, for a duration or
//! a number of requests.
//!
//! Workers take request numbers from one shared counter (so `--requests N` is exactly N and
//! the mixed pattern holds across workers), time each exchange from the first byte sent to
//! the last byte received (signing is timed separately), and hand their connection back at
//! the end of a phase so the next phase runs over the very same connections. A broken
//! connection is counted as an error and replaced. What a request contains is
//! [`super::workload`]'s business.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::stats::PhaseStats;
use super::transport::{Conn, Dialer, Reply};
use super::workload::{Op, Workload};

/// How many connections are opened at once (so the server's accept queue never overflows).
const CONNECT_BATCH: usize = 64;
/// Pause after a failed reconnect, so a dead server does not spin the bench.
const RECONNECT_PAUSE: Duration = Duration::from_millis(20);

/// When a phase ends.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// After this long.
    Duration(Duration),
    /// After this many requests, all workers together.
    Requests(u64),
}

/// Which requests a phase sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Phase {
    /// `GET /healthz` only.
    Ceiling,
    /// The operation under test.
    Operation,
}

/// Opens `n` connections, `CONNECT_BATCH` at a time.
pub async fn connect_all(dialer: &Arc<Dialer>, n: usize) -> anyhow::Result<Vec<Conn>> {
    let mut conns = Vec::with_capacity(n);
    while conns.len() < n {
        let batch = CONNECT_BATCH.min(n - conns.len());
        let mut set = JoinSet::new();
        for _ in 0..batch {
            let dialer = dialer.clone();
            set.spawn(async move { dialer.connect().await });
        }
        while let Some(joined) = set.join_next().await {
            let conn =
                joined?.map_err(|e| anyhow::anyhow!("{e} (connection {})", conns.len() + 1))?;
            conns.push(conn);
        }
    }
    Ok(conns)
}

/// Shared state of the workers of one phase.
struct Shared {
    workload: Arc<Workload>,
    dialer: Arc<Dialer>,
    phase: Phase,
    next: AtomicU64,
    max_requests: Option<u64>,
    deadline: Option<Instant>,
    collect_key_ids: bool,
}

impl Shared {
    /// Whether the phase is over (without taking a request number).
    fn over(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
            || self
                .max_requests
                .is_some_and(|max| self.next.load(Ordering::Relaxed) >= max)
    }

    /// The operation of request number `n`.
    fn op_at(&self, n: u64) -> Op {
        match self.phase {
            Phase::Ceiling => Op::Health,
            Phase::Operation => self.workload.op_at(n),
        }
    }

    /// The next request number, or `None` when the phase is over.
    fn ticket(&self) -> Option<u64> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        match self.max_requests {
            Some(max) if n >= max => None,
            _ => Some(n),
        }
    }
}

/// Runs one phase over `conns`; returns the connections still open and the merged counts.
pub async fn run_phase(
    conns: Vec<Conn>,
    dialer: &Arc<Dialer>,
    workload: &Arc<Workload>,
    phase: Phase,
    limit: Limit,
    collect_key_ids: bool,
) -> (Vec<Conn>, PhaseStats) {
    let started = Instant::now();
    let shared = Arc::new(Shared {
        workload: workload.clone(),
        dialer: dialer.clone(),
        phase,
        next: AtomicU64::new(0),
        max_requests: match limit {
            Limit::Requests(n) => Some(n),
            Limit::Duration(_) => None,
        },
        deadline: match limit {
            Limit::Duration(d) => Some(started + d),
            Limit::Requests(_) => None,
        },
        collect_key_ids,
    });
    let mut set = JoinSet::new();
    for conn in conns {
        set.spawn(worker(Some(conn), shared.clone()));
    }
    let mut kept = Vec::new();
    let mut total = PhaseStats::default();
    while let Some(joined) = set.join_next().await {
        if let Ok((conn, stats)) = joined {
            kept.extend(conn);
            total.merge(stats);
        }
    }
    total.elapsed = started.elapsed();
    (kept, total)
}

/// One connection's loop.
async fn worker(mut conn: Option<Conn>, shared: Arc<Shared>) -> (Option<Conn>, PhaseStats) {
    let mut stats = PhaseStats::default();
    loop {
        let Some(c) = conn.as_mut() else {
            if shared.over() {
                break;
            }
            conn = reconnect(&shared, &mut stats).await;
            continue;
        };
        let Some(n) = shared.ticket() else { break };
        let op = shared.op_at(n);
        let signing = Instant::now();
        let Ok(request) = shared.workload.request(op, n) else {
            stats.op(op).failed("client: cannot build the request");
            continue;
        };
        stats.signing += signing.elapsed();
        let sent = Instant::now();
        match c.exchange(request).await {
            Ok(reply) => record(&mut stats, op, &reply, sent.elapsed(), &shared),
            Err(label) => {
                stats.op(op).failed(&label);
                conn = None;
            }
        }
    }
    (conn, stats)
}

/// A new connection in place of a broken one; a failure counts against the next request's
/// operation.
async fn reconnect(shared: &Shared, stats: &mut PhaseStats) -> Option<Conn> {
    match shared.dialer.connect().await {
        Ok(c) => Some(c),
        Err(label) => {
            let op = shared.op_at(shared.next.load(Ordering::Relaxed));
            stats.op(op).failed(label);
            tokio::time::sleep(RECONNECT_PAUSE).await;
            None
        }
    }
}

fn record(stats: &mut PhaseStats, op: Op, reply: &Reply, latency: Duration, shared: &Shared) {
    if reply.status != 200 {
        stats.op(op).failed(&error_code(reply));
        return;
    }
    stats.op(op).ok(latency);
    if shared.collect_key_ids && op == Op::CreateKey {
        stats.key_ids.extend(created_key_id(&reply.body));
    }
}

/// The API `Code` of an error reply, or its HTTP status when the body has none.
fn error_code(reply: &Reply) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&reply.body).ok();
    match parsed.as_ref().and_then(|v| v["Code"].as_str()) {
        Some(code) => code.to_owned(),
        None => format!("HTTP {}", reply.status),
    }
}

fn created_key_id(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v["KeyMetadata"]["KeyId"].as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn error_codes_from_bodies() {
        let reply = |status, body: &'static str| Reply {
            status,
            body: Bytes::from_static(body.as_bytes()),
        };
        let r = reply(404, r#"{"Code":"InvalidAction.NotFound","Message":"x"}"#);
        assert_eq!(error_code(&r), "InvalidAction.NotFound");
        assert_eq!(error_code(&reply(502, "<html>")), "HTTP 502");
        let created = br#"{"KeyMetadata":{"KeyId":"k-1"},"RequestId":"r"}"#;
        assert_eq!(created_key_id(created).as_deref(), Some("k-1"));
    }
}
