//! `RequestId`s: unique, uppercase and UUID-shaped, made without a system call.
//!
//! Every reply carries a `RequestId`, "a UUID string" (§4.1); the SDKs read it and show it,
//! nothing parses it. [`RequestIds`] makes them from a random 64-bit prefix drawn once per
//! process and a 62-bit counter passed through a keyed bijection, laid out as an RFC 9562
//! version-8 ("custom") UUID: unique within a process because the bijection is one-to-one,
//! unique across processes and nodes with overwhelming probability because of the prefix,
//! and not a visible count of the server's requests. It is an identifier, not a secret.
//! Which reply carries it is the handler's business.

use std::sync::atomic::{AtomicU64, Ordering};

/// The counter's range: 62 bits, since the UUID variant takes two of the last 64.
const COUNTER_MASK: u64 = (1 << 62) - 1;

/// Hands out `RequestId`s.
#[derive(Debug)]
pub struct RequestIds {
    /// Random bits of the first half; the version nibble is overwritten.
    prefix: u64,
    /// Keys of the bijection that scrambles the counter: odd multipliers and an offset.
    keys: [u64; 3],
    counter: AtomicU64,
}

impl Default for RequestIds {
    fn default() -> Self {
        let mut seed = [0u8; 32];
        // aws-lc's RNG does not fail once initialised; a failure here would leave zeros,
        // which only makes ids predictable, never repeated within the process.
        let _ = aws_lc_rs::rand::fill(&mut seed);
        let word = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&seed[i * 8..i * 8 + 8]);
            u64::from_le_bytes(bytes)
        };
        Self {
            prefix: word(0),
            keys: [word(1) | 1, word(2) | 1, word(3)],
            counter: AtomicU64::new(0),
        }
    }
}

impl RequestIds {
    /// The next id.
    pub fn next_id(&self) -> RequestId {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let low = self.scramble(n & COUNTER_MASK);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.prefix.to_be_bytes());
        bytes[8..].copy_from_slice(&low.to_be_bytes());
        bytes[6] = 0x80 | (bytes[6] & 0x0f); // version 8
        bytes[8] = 0x80 | (bytes[8] & 0x3f); // variant 0b10
        let mut text = [0u8; 36];
        uuid::Uuid::from_bytes(bytes)
            .hyphenated()
            .encode_upper(&mut text);
        RequestId(text)
    }

    /// A bijection of the 62-bit numbers: multiplications by odd numbers, an xor-shift and an
    /// addition, each invertible modulo 2^62.
    fn scramble(&self, n: u64) -> u64 {
        let [a, b, c] = self.keys;
        let mut x = n.wrapping_mul(a) & COUNTER_MASK;
        x ^= x >> 31;
        x = x.wrapping_mul(b) & COUNTER_MASK;
        x ^= x >> 29;
        x.wrapping_add(c) & COUNTER_MASK
    }
}

/// One `RequestId`: 36 ASCII characters, `8-4-4-4-12` uppercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; 36]);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Always ASCII: it was written by the UUID encoder.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_uppercase_uuids() {
        let ids = RequestIds::default();
        let id = ids.next_id();
        let text = id.as_str();
        let parsed = uuid::Uuid::parse_str(text).expect("a UUID");
        assert_eq!(text, parsed.hyphenated().to_string().to_uppercase());
        assert_eq!(parsed.get_version_num(), 8);
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(ids.next_id(), id);
    }

    #[test]
    fn ids_do_not_repeat() {
        let ids = RequestIds::default();
        let seen: HashSet<String> = (0..100_000)
            .map(|_| ids.next_id().as_str().to_owned())
            .collect();
        assert_eq!(seen.len(), 100_000);
        // Two processes (here: two generators) share no prefix in practice.
        let other = RequestIds::default();
        assert_ne!(other.next_id().as_str()[..18], ids.next_id().as_str()[..18]);
    }

    #[test]
    fn the_scramble_is_one_to_one() {
        let ids = RequestIds {
            prefix: 0,
            keys: [0x9E37_79B9_7F4A_7C15, 0xBF58_476D_1CE4_E5B9, 12345],
            counter: AtomicU64::new(0),
        };
        // Distinct inputs, including ones that differ only in high bits, stay distinct.
        let inputs = (0..50_000_u64).chain((1..=50_000_u64).map(|i| i << 40 | 7));
        let outputs: HashSet<u64> = inputs.map(|n| ids.scramble(n & COUNTER_MASK)).collect();
        assert_eq!(outputs.len(), 100_000);
        assert!(outputs.iter().all(|&x| x <= COUNTER_MASK));
    }
}
