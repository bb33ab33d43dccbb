//! Nonce replay protection: each SignatureNonce is accepted once per AccessKey while its
//! request's timestamp is inside the clock window, in bounded memory.
//!
//! A nonce is remembered as a 64-bit keyed fingerprint of (AccessKeyId, nonce) — SipHash-1-3
//! under a random key ([`FingerprintKey`]; the journal's, when there is one, so fingerprints
//! outlive a restart), so nobody can aim a collision at another client's nonce — with the
//! second its request's timestamp leaves the window: 12 bytes an entry, in 64 independently
//! locked shards. A request whose fingerprint is remembered and not yet expired is a replay,
//! whatever its other parameters. A fresh nonce mistaken for a
//! remembered one has a chance of at most one in 2^64 / 917,504 (the most entries kept),
//! about 5 × 10^-14 a request, and is refused like a replay.
//!
//! Expired entries are never removed one by one. A shard is rebuilt without them when it
//! fills its table: so each insert pays for a constant number of entries moved, and the
//! table never carries deleted slots. A shard never holds more than [`SHARD_CAPACITY`]
//! entries, so the whole set stays under about 13 MiB however busy the server is.
//!
//! When a shard is full of live nonces, it does not forget any of them silently: it raises its
//! *floor*, the expiry below which it no longer vouches for anything, and drops the nonces
//! that expire first (those of the oldest timestamps). From then on a request whose
//! timestamp is that old is refused with a retryable error ([`Refusal::Full`]) even if its
//! nonce is new, since it could be the replay of a dropped one. Requests with current
//! timestamps keep being served. The floor only matters under sustained load: the table holds
//! about 1,000 requests a second for the whole 15-minute window; at 40,000 a second only
//! timestamps less than ten to twenty seconds old are accepted.
//!
//! A single node makes its nonces durable in the nonce journal ([`super::journal`]), whose key
//! the set then uses and whose live entries it is filled with at start.
//!
//! Nodes sharing a database also share their nonces: [`SharedNonces`] records each one in the
//! store's [`ReplayStore`] (which keeps them durably, with one winner per nonce across
//! nodes), after the local set accepted it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use openkms_core::{ReplayStore, StoreError};

use super::journal::FingerprintKey;

/// Number of independently locked shards.
const SHARDS: usize = 64;
/// Most entries one shard holds: what a table of 2^14 slots holds at its 7/8 load limit.
/// With 13 bytes a slot (entry and control byte), all shards together stay under 13 MiB.
pub const SHARD_CAPACITY: usize = 14_336;
/// The size a shard's table starts at.
const INITIAL_CAPACITY: usize = 56;
/// Seconds between two warnings that nonces are being dropped early.
const WARN_EVERY_SECS: i64 = 60;

/// Why a nonce was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The nonce was used before by this AccessKey and has not expired: a replay.
    Replayed,
    /// The set is full of live nonces and the request's timestamp is older than the ones it
    /// still vouches for; a retry with a fresh timestamp and nonce is accepted.
    Full,
}

/// The set of nonces seen recently.
#[derive(Debug)]
pub struct NonceCache {
    shards: Box<[Mutex<Shard>]>,
    /// The SipHash key of the fingerprints.
    key: FingerprintKey,
    /// Most entries a shard holds.
    shard_capacity: usize,
    /// When nonces were last dropped early and a warning logged (seconds since the epoch).
    warned_at: AtomicI64,
}

impl Default for NonceCache {
    fn default() -> Self {
        Self::with_shard_capacity(SHARD_CAPACITY)
    }
}

impl NonceCache {
    /// A set whose shards hold at most `shard_capacity` entries each (tests use small ones).
    pub fn with_shard_capacity(shard_capacity: usize) -> Self {
        Self::with_key(FingerprintKey::random(), shard_capacity)
    }

    /// A set fingerprinting with `key` (the nonce journal's, so that the entries it restores
    /// match).
    pub fn with_key(key: FingerprintKey, shard_capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            key,
            shard_capacity: shard_capacity.max(INITIAL_CAPACITY),
            warned_at: AtomicI64::new(i64::MIN),
        }
    }

    /// Records `nonce` for `access_key_id` until `expires` (seconds since the epoch), or says
    /// why not.
    pub fn insert(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires: i64,
        now: i64,
    ) -> Result<(), Refusal> {
        let fingerprint = self.key.fingerprint(access_key_id, nonce);
        self.insert_fingerprint(fingerprint, expires, now)
    }

    /// The fingerprint under which `nonce` of `access_key_id` is remembered.
    pub fn fingerprint(&self, access_key_id: &str, nonce: &str) -> u64 {
        self.key.fingerprint(access_key_id, nonce)
    }

    /// Records a nonce by its [fingerprint](Self::fingerprint) until `expires`, or says why
    /// not.
    pub fn insert_fingerprint(
        &self,
        fingerprint: u64,
        expires: i64,
        now: i64,
    ) -> Result<(), Refusal> {
        // Bits the shard's table uses least: it indexes by the low bits, tags by the top ones.
        let shard = (fingerprint >> 32) as usize % SHARDS;
        let mut shard = self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let outcome = shard.insert(
            Fingerprint::of(fingerprint),
            seconds(expires),
            seconds(now),
            self.shard_capacity,
        );
        drop(shard);
        if let Ok(Inserted::DroppedEarly) = outcome {
            self.warn_dropped(now);
        }
        outcome.map(|_| ())
    }

    fn warn_dropped(&self, now: i64) {
        let last = self.warned_at.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= WARN_EVERY_SECS
            && self
                .warned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                "nonce set full: requests with the oldest timestamps are refused (retryable) \
                 until the load eases"
            );
        }
    }
}

/// The nonces of every node sharing the store, kept in its [`ReplayStore`].
#[derive(Clone)]
pub struct SharedNonces(Arc<dyn ReplayStore>);

impl std::fmt::Debug for SharedNonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedNonces")
    }
}

impl SharedNonces {
    /// The nonces kept in `store`.
    pub fn new(store: Arc<dyn ReplayStore>) -> Self {
        Self(store)
    }

    /// Records `nonce` for `access_key_id` until `expires`; false if any node used it already
    /// and it has not expired at `now`.
    pub async fn insert(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.0.use_nonce(access_key_id, nonce, expires, now).await
    }
}

/// Seconds since the epoch as stored: `u32` lasts until 2106.
fn seconds(t: i64) -> u32 {
    u32::try_from(t.max(0)).unwrap_or(u32::MAX)
}

/// A 64-bit fingerprint stored as two `u32`s, so an entry with its expiry is 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint([u32; 2]);

impl Fingerprint {
    fn of(value: u64) -> Self {
        // Truncations intended: the two halves of the value.
        Self([(value >> 32) as u32, value as u32])
    }

    fn value(self) -> u64 {
        (u64::from(self.0[0]) << 32) | u64::from(self.0[1])
    }
}

impl Hash for Fingerprint {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.value());
    }
}

/// Passes a fingerprint through as its own hash: it already is a keyed hash.
#[derive(Debug, Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by `Fingerprint`; mixes anything else well enough.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// Fingerprint -> the second its request's timestamp leaves the window.
type Table = HashMap<Fingerprint, u32, BuildHasherDefault<PassThrough>>;

/// What a successful insert did besides recording the nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inserted {
    /// Nothing else.
    Plainly,
    /// The shard was full of live nonces and dropped the earliest-expiring ones.
    DroppedEarly,
}

/// One lock's worth of the set.
#[derive(Debug, Default)]
struct Shard {
    seen: Table,
    /// Expiry below which the shard may have dropped nonces early: a request expiring before
    /// it is refused, since it could be a replay. Only ever rises.
    floor: u32,
}

impl Shard {
    fn insert(
        &mut self,
        fingerprint: Fingerprint,
        expires: u32,
        now: u32,
        max: usize,
    ) -> Result<Inserted, Refusal> {
        let known = match self.seen.get(&fingerprint) {
            Some(&until) if until >= now => return Err(Refusal::Replayed),
            Some(_) => true,
            None => false,
        };
        if expires < self.floor {
            return Err(Refusal::Full);
        }
        let mut outcome = Inserted::Plainly;
        if !known && self.seen.len() >= self.seen.capacity().min(max) {
            outcome = self.make_room(now, max);
            if expires < self.floor {
                return Err(Refusal::Full);
            }
        }
        self.seen.insert(fingerprint, expires);
        Ok(outcome)
    }

    /// Called when the table is full: rebuilds it without expired entries, twice as large
    /// while under `max` and mostly live; at `max` and still three quarters live, first drops
    /// the earliest-expiring entries and raises the floor to match. Either way at least a
    /// quarter of the table is free afterwards, so rebuilds cost O(1) per insert.
    fn make_room(&mut self, now: u32, max: usize) -> Inserted {
        let capacity = self.seen.capacity().min(max);
        let mut keep_from = now.max(self.floor);
        let live = self.seen.values().filter(|&&e| e >= keep_from).count();
        let mut outcome = Inserted::Plainly;
        let size = if capacity < max && live * 2 >= capacity {
            (capacity * 2).clamp(INITIAL_CAPACITY, max)
        } else {
            capacity.max(INITIAL_CAPACITY)
        };
        if live * 4 > size * 3 {
            // Full of live nonces: drop those expiring first, down to half the table.
            let drop = live - size / 2;
            let mut expiries: Vec<u32> = self
                .seen
                .values()
                .copied()
                .filter(|&e| e >= keep_from)
                .collect();
            let (_, &mut last_dropped, _) = expiries.select_nth_unstable(drop - 1);
            self.floor = last_dropped.saturating_add(1);
            keep_from = keep_from.max(self.floor);
            outcome = Inserted::DroppedEarly;
        }
        let mut fresh = Table::with_capacity_and_hasher(size, BuildHasherDefault::default());
        fresh.extend(self.seen.drain().filter(|&(_, e)| e >= keep_from));
        self.seen = fresh;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_refused_until_expiry() {
        let c = NonceCache::default();
        assert_eq!(c.insert("ak", "n1", 100, 0), Ok(()));
        assert_eq!(c.insert("ak", "n1", 100, 50), Err(Refusal::Replayed));
        assert_eq!(c.insert("ak", "n1", 300, 50), Err(Refusal::Replayed));
        assert_eq!(c.insert("other", "n1", 100, 50), Ok(()));
        assert_eq!(c.insert("ak", "n1", 300, 101), Ok(()));
        assert_eq!(c.insert("ak", "n1", 300, 200), Err(Refusal::Replayed));
    }

    #[test]
    fn rebuilding_keeps_live_entries() {
        let c = NonceCache::default();
        let n = INITIAL_CAPACITY * SHARDS * 8;
        for i in 0..n {
            let expires = if i % 2 == 0 { 10 } else { 1000 };
            assert_eq!(c.insert("ak", &i.to_string(), expires, 20), Ok(()));
        }
        for i in (1..n).step_by(2) {
            assert_eq!(
                c.insert("ak", &i.to_string(), 1000, 20),
                Err(Refusal::Replayed)
            );
        }
    }

    #[test]
    fn expired_entries_make_room_without_raising_the_floor() {
        let c = NonceCache::with_shard_capacity(64);
        // Far more nonces than the set holds, but each expires before the next second.
        for t in 0..200_i64 {
            for i in 0..100 {
                let nonce = format!("{t}-{i}");
                assert_eq!(c.insert("ak", &nonce, t, t), Ok(()), "{nonce}");
            }
        }
        for shard in c.shards.iter() {
            let shard = shard.lock().unwrap();
            assert_eq!(shard.floor, 0);
            assert!(shard.seen.len() <= 64);
        }
    }

    #[test]
    fn a_full_set_refuses_old_timestamps_and_never_forgets_a_replay() {
        let c = NonceCache::with_shard_capacity(64);
        let window = 900;
        let mut refused_full = 0;
        // One request a millisecond for 20 s, timestamps = arrival: far over capacity.
        for i in 0..20_000_i64 {
            let now = 1_000 + i / 1000;
            match c.insert("ak", &i.to_string(), now + window, now) {
                Ok(()) => {}
                Err(Refusal::Full) => refused_full += 1,
                Err(Refusal::Replayed) => panic!("fresh nonce {i} taken for a replay"),
            }
        }
        // Every accepted nonce is refused on replay: as a replay while remembered, else
        // because its timestamp is below the floor of its shard.
        let now = 1_020;
        for i in 0..20_000_i64 {
            let sent = 1_000 + i / 1000;
            assert!(c.insert("ak", &i.to_string(), sent + window, now).is_err());
        }
        // Current timestamps are still served, and memory stayed bounded.
        assert_eq!(c.insert("ak", "new", now + window, now), Ok(()));
        assert!(refused_full < 20_000 / 10, "{refused_full}");
        for shard in c.shards.iter() {
            let shard = shard.lock().unwrap();
            assert!(shard.seen.len() <= 64, "{}", shard.seen.len());
            assert!(shard.seen.capacity() <= 112);
        }
    }
}
