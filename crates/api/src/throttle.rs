//! Request throttling: failed authentications per source address, and (when configured)
//! requests per AccessKey. Both answer Alibaba's throttling errors (`Throttling`,
//! `Throttling.User`).
//!
//! **Failures, not requests, are throttled per source.** Each source (an IPv4 address, or the
//! /64 an IPv6 address belongs to, since one host commonly holds a whole /64) has a token bucket
//! of failed authentications: [`FailureRate::burst`] of them at once, refilled at
//! [`FailureRate::per_minute`]. A request that fails authentication (bad signature, unknown or
//! disabled AccessKey, bad or expired timestamp, reused nonce, no signature at all) takes a
//! token; once the bucket is empty, such a request is answered `Throttling` instead of its
//! verdict, so a client guessing secrets or AccessKeyIds learns nothing more. A correctly
//! signed request never looks at the table, so it goes through from a throttled address too
//! (another client behind the same NAT), and the hot path of successful requests takes no
//! lock at all.
//!
//! **Bounded memory.** The table holds at most [`FailureRate::sources`] buckets, in
//! independently locked shards. A bucket that has refilled completely says nothing and may be
//! dropped; a shard full of indebted sources sweeps such buckets out (at most once a second),
//! and a new source that still finds no room is charged to one overflow bucket shared by all
//! such sources. So an attacker with many addresses gets at most their buckets plus the shared
//! one, and cannot grow the table or evict a throttled source's debt.
//!
//! **Per-AccessKey quotas** ([`AccessKeyQuota`], off unless configured): a token bucket per
//! authenticated AccessKeyId, [`KeyRate::burst`] requests at once and
//! [`KeyRate::per_second`] sustained; beyond it `Throttling.User`. Only authenticated callers
//! get a bucket, so its table is bounded by the number of AccessKeys.
//!
//! No `x-acs-retry-after` header is sent: with it the Tea SDK raises `ThrottlingException`,
//! which is not a `ClientException`, so callers handling 4xx answers the documented way would
//! no longer see these; and a throttled failure is not worth retrying at all.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::auth::Caller;
use crate::rpc::RpcError;

/// Shards of each table.
const SHARDS: usize = 16;
/// Least time between two sweeps of one full shard.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The failed-authentication budget of one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureRate {
    /// Failures a source may make at once before it is throttled.
    pub burst: u32,
    /// Failures a minute a source regains, continuously.
    pub per_minute: u32,
    /// Most sources tracked at once.
    pub sources: usize,
}

impl Default for FailureRate {
    /// 100 failures at once, then one a second, for at most 65,536 sources (under 8 MiB).
    fn default() -> Self {
        Self {
            burst: 100,
            per_minute: 60,
            sources: 65_536,
        }
    }
}

/// The request quota of one AccessKey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRate {
    /// Requests an AccessKey may make at once.
    pub burst: u32,
    /// Requests a second it may make sustained.
    pub per_second: u32,
}

/// The throttles a server applies.
#[derive(Debug)]
pub struct Limits {
    failures: Option<FailureThrottle>,
    access_keys: Option<AccessKeyQuota>,
}

impl Limits {
    /// What a server applies unless configured: failed authentications throttled at
    /// [`FailureRate::default`], no per-AccessKey quota.
    pub fn default_for_server() -> Self {
        Self::new(Some(FailureRate::default()), None)
    }

    /// No throttling at all.
    pub fn none() -> Self {
        Self::new(None, None)
    }

    /// Throttles failed authentications at `failures` (`None`: never) and requests per
    /// AccessKey at `per_key` (`None`: never).
    pub fn new(failures: Option<FailureRate>, per_key: Option<KeyRate>) -> Self {
        Self {
            failures: failures.map(FailureThrottle::new),
            access_keys: per_key.map(AccessKeyQuota::new),
        }
    }

    /// The answer to a request from `source` that failed authentication with `error`: the
    /// error itself while the source has budget left, `Throttling` once it has none. Server
    /// faults (a failing store, a full nonce set) are not the client's failures and pass as
    /// they are.
    pub fn failed(&self, error: RpcError, source: Option<IpAddr>) -> RpcError {
        let (Some(throttle), Some(source)) = (&self.failures, source) else {
            return error;
        };
        if matches!(
            error,
            RpcError::NonceMemoryFull | RpcError::NonceJournal(_) | RpcError::Kms(_)
        ) {
            return error;
        }
        match throttle.charge_ip(source, Instant::now()) {
            true => error,
            false => RpcError::SourceThrottled,
        }
    }

    /// Admits one request of an authenticated `caller`, or answers `Throttling.User`.
    pub fn admit(&self, caller: &Caller) -> Result<(), RpcError> {
        self.admit_key(&caller.access_key_id)
    }

    /// Admits one request charged to quota `key` (an AccessKeyId, or another front end's
    /// name for a caller without one), or answers `Throttling.User`.
    pub fn admit_key(&self, key: &str) -> Result<(), RpcError> {
        match &self.access_keys {
            Some(quota) if !quota.take(key, Instant::now()) => Err(RpcError::AccessKeyThrottled),
            _ => Ok(()),
        }
    }
}

/// A budget per source for refused requests that no AccessKey can sign (the operator's init
/// and unseal, which a sealed server answers): as with failed authentication, only a refused
/// request takes a token, and once a source has none its refusals are answered `Throttling`;
/// an accepted request is never charged, so no flood can lock an operator out. Same table,
/// same bounded memory as the failed-authentication throttle.
#[derive(Debug)]
pub struct SourceThrottle(FailureThrottle);

impl SourceThrottle {
    /// A throttle allowing each source `rate`.
    pub fn new(rate: FailureRate) -> Self {
        Self(FailureThrottle::new(rate))
    }

    /// The answer to a request from `source` refused with `error`: the error itself while
    /// the source has budget left, `Throttling` once it has none. A request of unknown source
    /// is not throttled (the transport always knows it).
    pub fn refused(&self, error: RpcError, source: Option<IpAddr>) -> RpcError {
        match source {
            Some(ip) if !self.0.charge_ip(ip, Instant::now()) => RpcError::SourceThrottled,
            _ => error,
        }
    }
}

/// A token bucket: `tokens` left as of `at`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(burst),
            at: now,
        }
    }

    /// Refills at `per_second` up to `burst`, then takes one token if there is one.
    fn take(&mut self, burst: u32, per_second: f64, now: Instant) -> bool {
        self.refill(burst, per_second, now);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }

    fn refill(&mut self, burst: u32, per_second: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(f64::from(burst));
        self.at = now;
    }

    /// Whether the bucket would be full at `now`, so forgetting it changes nothing.
    fn refilled(&self, burst: u32, per_second: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens + elapsed * per_second >= f64::from(burst)
    }
}

/// Where a request comes from, as far as throttling is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// An IPv4 address (also when it arrives IPv4-mapped on an IPv6 socket).
    V4(u32),
    /// The /64 prefix of an IPv6 address.
    V6(u64),
}

impl Source {
    /// The source `ip` counts as.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(u32::from(v4)),
                // The top 64 bits: truncation intended.
                None => Self::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// One lock's share of the failure table.
#[derive(Debug)]
struct Shard<K> {
    buckets: HashMap<K, Bucket, RandomState>,
    /// No sweep before this instant.
    next_sweep: Instant,
}

/// Failed-authentication buckets per source, in bounded memory.
type FailureThrottle = FailureTable<Source>;

impl FailureThrottle {
    /// Takes one failure from `ip`'s budget; false when it has none left (throttled).
    fn charge_ip(&self, ip: IpAddr, now: Instant) -> bool {
        self.charge_at(Source::of(ip), now)
    }
}

/// Failure buckets per key (a [`Source`], or whatever else a caller budgets failures by, such
/// as the console's user names), in bounded memory: the table the module's doc describes,
/// [`FailureRate::sources`] being the most keys it holds.
#[derive(Debug)]
pub struct FailureTable<K> {
    rate: FailureRate,
    per_second: f64,
    per_shard: usize,
    /// Which shard a key lives in (keyed per process, so nobody can aim at one shard).
    hasher: RandomState,
    shards: Box<[Mutex<Shard<K>>]>,
    /// Charged for the sources that find their shard full of indebted ones.
    overflow: Mutex<Bucket>,
}

impl<K: Hash + Eq> FailureTable<K> {
    /// An empty table allowing each key `rate`.
    pub fn new(rate: FailureRate) -> Self {
        let now = Instant::now();
        let shard = || {
            Mutex::new(Shard {
                buckets: HashMap::default(),
                next_sweep: now,
            })
        };
        Self {
            per_second: f64::from(rate.per_minute) / 60.0,
            per_shard: rate.sources.div_ceil(SHARDS).max(1),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| shard()).collect(),
            overflow: Mutex::new(Bucket::full(rate.burst, now)),
            rate,
        }
    }

    /// Takes one failure from `key`'s budget now; false when it has none left (throttled).
    pub fn charge(&self, key: K) -> bool {
        self.charge_at(key, Instant::now())
    }

    /// Gives back one failure taken from `key` (an attempt charged in advance that
    /// succeeded, or was never judged); nothing when the key is no longer tracked.
    pub fn refund(&self, key: &K) {
        let index = self.hasher.hash_one(key) as usize % SHARDS;
        let mut shard = self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(bucket) = shard.buckets.get_mut(key) {
            bucket.tokens = (bucket.tokens + 1.0).min(f64::from(self.rate.burst));
        }
    }

    /// Takes one failure from `key`'s budget at `now`; false when it has none left.
    fn charge_at(&self, source: K, now: Instant) -> bool {
        let index = self.hasher.hash_one(&source) as usize % SHARDS;
        let mut shard = self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (burst, per_second) = (self.rate.burst, self.per_second);
        if let Some(bucket) = shard.buckets.get_mut(&source) {
            return bucket.take(burst, per_second, now);
        }
        if shard.buckets.len() >= self.per_shard {
            self.sweep(&mut shard, now);
        }
        if shard.buckets.len() >= self.per_shard {
            drop(shard);
            return self.charge_overflow(now);
        }
        let mut bucket = Bucket::full(burst, now);
        let allowed = bucket.take(burst, per_second, now);
        shard.buckets.insert(source, bucket);
        allowed
    }

    /// Drops the buckets that have refilled completely, at most once per [`SWEEP_EVERY`].
    fn sweep(&self, shard: &mut Shard<K>, now: Instant) {
        if now < shard.next_sweep {
            return;
        }
        let (burst, per_second) = (self.rate.burst, self.per_second);
        shard
            .buckets
            .retain(|_, b| !b.refilled(burst, per_second, now));
        shard.next_sweep = now + SWEEP_EVERY;
    }

    fn charge_overflow(&self, now: Instant) -> bool {
        let mut overflow = self.overflow.lock().unwrap_or_else(PoisonError::into_inner);
        overflow.take(self.rate.burst, self.per_second, now)
    }
}

/// Request buckets per authenticated AccessKeyId.
#[derive(Debug)]
struct AccessKeyQuota {
    rate: KeyRate,
    hasher: RandomState,
    shards: Box<[Mutex<HashMap<String, Bucket>>]>,
}

impl AccessKeyQuota {
    fn new(rate: KeyRate) -> Self {
        Self {
            rate,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// Takes one request from `access_key_id`'s quota; false when it has none left.
    fn take(&self, access_key_id: &str, now: Instant) -> bool {
        let index = self.hasher.hash_one(access_key_id) as usize % SHARDS;
        let mut shard = self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (burst, per_second) = (self.rate.burst, f64::from(self.rate.per_second));
        match shard.get_mut(access_key_id) {
            Some(bucket) => bucket.take(burst, per_second, now),
            None => {
                let mut bucket = Bucket::full(burst, now);
                let allowed = bucket.take(burst, per_second, now);
                shard.insert(access_key_id.to_owned(), bucket);
                allowed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn rate(burst: u32, per_minute: u32, sources: usize) -> FailureRate {
        FailureRate {
            burst,
            per_minute,
            sources,
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_source_gets_its_burst_then_its_refill() {
        let t = FailureThrottle::new(rate(3, 60, 100));
        let start = Instant::now();
        let a = ip("192.0.2.1");
        assert!((0..3).all(|_| t.charge_ip(a, start)));
        assert!(!t.charge_ip(a, start));
        // Another address has its own budget.
        assert!(t.charge_ip(ip("192.0.2.2"), start));
        // One failure a second comes back.
        assert!(t.charge_ip(a, start + Duration::from_millis(1000)));
        assert!(!t.charge_ip(a, start + Duration::from_millis(1100)));
    }

    #[test]
    fn ipv6_is_bucketed_by_64_and_mapped_ipv4_as_ipv4() {
        let t = FailureThrottle::new(rate(2, 0, 100));
        let now = Instant::now();
        assert!(t.charge_ip(ip("2001:db8:1:2::1"), now));
        assert!(t.charge_ip(ip("2001:db8:1:2:ffff::9"), now));
        assert!(!t.charge_ip(ip("2001:db8:1:2::77"), now));
        assert!(t.charge_ip(ip("2001:db8:1:3::1"), now));
        let mapped = IpAddr::V6(Ipv4Addr::new(198, 51, 100, 7).to_ipv6_mapped());
        assert!(t.charge_ip(mapped, now));
        assert!(t.charge_ip(ip("198.51.100.7"), now));
        assert!(!t.charge_ip(mapped, now));
        assert_eq!(Source::of(IpAddr::V6(Ipv6Addr::LOCALHOST)), Source::V6(0));
    }

    #[test]
    fn many_sources_cannot_grow_the_table_or_evict_debt() {
        let t = FailureThrottle::new(rate(2, 60, 64));
        let now = Instant::now();
        let victim = ip("203.0.113.9");
        assert!(t.charge_ip(victim, now) && t.charge_ip(victim, now));
        // Ten thousand addresses, each failing twice (so none is refilled).
        for i in 0..10_000_u32 {
            let a = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i));
            t.charge_ip(a, now);
            t.charge_ip(a, now);
        }
        let tracked: usize = t
            .shards
            .iter()
            .map(|s| s.lock().unwrap().buckets.len())
            .sum();
        assert!(tracked <= 64 + SHARDS, "{tracked}");
        // The victim's debt was kept, and newcomers share the exhausted overflow bucket.
        assert!(!t.charge_ip(victim, now));
        assert!(!t.charge_ip(ip("172.16.0.1"), now));
    }

    #[test]
    fn refilled_sources_are_forgotten_to_make_room() {
        let t = FailureThrottle::new(rate(1, 60, SHARDS * 64));
        let start = Instant::now();
        // Far more sources than the table holds, each out of budget.
        for i in 0..5_000_u32 {
            t.charge_ip(IpAddr::V4(Ipv4Addr::from(i)), start);
        }
        // Two seconds later every bucket is full again: a sweep forgets them all, and new
        // sources get buckets of their own instead of the exhausted overflow bucket.
        let later = start + Duration::from_secs(2);
        for i in 10_000..10_100_u32 {
            assert!(t.charge_ip(IpAddr::V4(Ipv4Addr::from(i)), later));
        }
    }

    #[test]
    fn server_faults_and_unknown_sources_are_never_throttled() {
        let limits = Limits::new(Some(rate(0, 0, 10)), None);
        let a = Some(ip("192.0.2.1"));
        assert!(matches!(
            limits.failed(RpcError::NonceUsed, a),
            RpcError::SourceThrottled
        ));
        assert!(matches!(
            limits.failed(RpcError::NonceMemoryFull, a),
            RpcError::NonceMemoryFull
        ));
        assert!(matches!(
            limits.failed(RpcError::NonceUsed, None),
            RpcError::NonceUsed
        ));
    }

    #[test]
    fn access_key_quota_counts_per_key() {
        let q = AccessKeyQuota::new(KeyRate {
            burst: 2,
            per_second: 10,
        });
        let now = Instant::now();
        assert!(q.take("ak1", now) && q.take("ak1", now));
        assert!(!q.take("ak1", now));
        assert!(q.take("ak2", now));
        assert!(q.take("ak1", now + Duration::from_millis(100)));
    }
}
