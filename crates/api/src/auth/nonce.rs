//! Nonce replay protection: each SignatureNonce is accepted once per AccessKey while its
//! request's timestamp is inside the clock window.
//!
//! Entries expire when their timestamp leaves the window, after which a replay would fail the
//! window check anyway. The set is sharded to keep lock contention low, and expired entries
//! are swept from a shard as it grows. Sharing the set between nodes is a later concern of
//! the store.

use std::collections::HashMap;
use std::sync::Mutex;

/// Number of independently locked shards.
const SHARDS: usize = 16;
/// A shard is swept of expired entries whenever it grows past this size since the last sweep.
const SWEEP_EVERY: usize = 4096;

#[derive(Debug, Default)]
struct Shard {
    /// Digest of (AccessKeyId, nonce) -> expiry in seconds since the epoch. A 128-bit digest
    /// instead of the two strings keeps an entry at a few dozen bytes.
    seen: HashMap<u128, i64>,
    /// The size after the last sweep.
    swept_at: usize,
}

/// The set of nonces seen recently.
#[derive(Debug, Default)]
pub struct NonceCache {
    shards: [Mutex<Shard>; SHARDS],
}

impl NonceCache {
    /// Records `nonce` for `access_key_id` until `expires`; false if it is already recorded
    /// and not yet expired.
    pub fn insert(&self, access_key_id: &str, nonce: &str, expires: i64, now: i64) -> bool {
        let mut shard = self.shards[shard_of(access_key_id, nonce)]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = digest(access_key_id, nonce);
        if shard.seen.get(&key).is_some_and(|&e| e >= now) {
            return false;
        }
        shard.seen.insert(key, expires);
        if shard.seen.len() >= shard.swept_at + SWEEP_EVERY {
            shard.seen.retain(|_, e| *e >= now);
            shard.swept_at = shard.seen.len();
        }
        true
    }
}

/// The first 128 bits of SHA-256(AccessKeyId ‖ 0 ‖ nonce): collisions are out of reach.
fn digest(access_key_id: &str, nonce: &str) -> u128 {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(access_key_id.as_bytes());
    ctx.update(&[0]);
    ctx.update(nonce.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&ctx.finish().as_ref()[..16]);
    u128::from_le_bytes(first)
}

fn shard_of(access_key_id: &str, nonce: &str) -> usize {
    // FNV-1a: cheap and good enough to spread random nonces over shards.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in access_key_id.bytes().chain(nonce.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % SHARDS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_refused_until_expiry() {
        let c = NonceCache::default();
        assert!(c.insert("ak", "n1", 100, 0));
        assert!(!c.insert("ak", "n1", 100, 50));
        assert!(c.insert("other", "n1", 100, 50));
        assert!(c.insert("ak", "n1", 300, 101));
    }

    #[test]
    fn sweeping_keeps_live_entries() {
        let c = NonceCache::default();
        for i in 0..(SWEEP_EVERY * SHARDS * 2) {
            assert!(c.insert("ak", &i.to_string(), if i % 2 == 0 { 10 } else { 1000 }, 20));
        }
        assert!(!c.insert("ak", "1", 1000, 20));
    }
}
