//! Shamir's secret sharing of the root key over GF(256), and the text form of one share.
//!
//! The arithmetic is the `blahaj` crate's (the maintained fork of `sharks`; GF(2^8) with the
//! polynomial x^8 + x^4 + x^3 + x^2 + 1, one random polynomial of degree `threshold - 1` per
//! secret byte, shares at x = 1..=count); the tests hold a split made by an independent
//! implementation. Its table lookups are not constant-time; splitting and combining happen
//! once per ceremony, on the server, not per request.
//!
//! A share travels as text: `okms1-` then unpadded base64url of a format byte, the 8-byte id
//! of the split it belongs to (so a share of another initialisation is told apart at once),
//! its index (x) and its 32 value bytes. Its [`Share::digest`] is what the store keeps to
//! refuse a wrong share before combining: SHA-256 over a label, the split id, the index and the
//! value — the value is uniformly random for any fewer than `threshold` shares, so the digest
//! reveals nothing usable. A share is a secret: no `Debug`, no `Clone`, wiped on drop.
//!
//! Checking shares against the store and collecting them is [`crate::unseal`]'s job.

use std::convert::Infallible;

use base64::Engine as _;

use crate::random::SecureRandom;
use crate::secret::SecretBytes;

/// Prefix of a share's text form.
pub const SHARE_PREFIX: &str = "okms1-";
/// Bytes of a split id.
pub const SET_ID_LEN: usize = 8;
/// Bytes of a share's value: the root key's length.
pub const VALUE_LEN: usize = 32;
/// Format byte of a share.
const SHARE_V1: u8 = 1;
/// Bytes of an encoded share.
const SHARE_LEN: usize = 1 + SET_ID_LEN + 1 + VALUE_LEN;
/// Longest share text accepted before decoding.
pub const MAX_SHARE_TEXT: usize = 128;
/// Label hashed into a share's digest.
const DIGEST_LABEL: &[u8] = b"openkms/v1/unseal-share";

/// Why a split was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// The numbers break 1 <= threshold <= shares <= 255, or give threshold 1 with several
    /// shares (each share would then be the whole key).
    #[error(
        "shares and threshold must satisfy 1 <= threshold <= shares <= 255, with threshold >= 2 unless shares = 1 (got {shares} shares, threshold {threshold})"
    )]
    Parameters {
        /// Shares asked for.
        shares: u32,
        /// Threshold asked for.
        threshold: u32,
    },
    /// The secret is not 32 bytes.
    #[error("the secret to split is not 32 bytes")]
    SecretLength,
}

/// Why a share's text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an unseal share (expected okms1- followed by 56 base64url characters)")]
pub struct MalformedShare;

/// Checks share and threshold counts: 1 <= threshold <= shares <= 255, threshold >= 2 unless
/// there is one share.
pub fn check_parameters(shares: u32, threshold: u32) -> Result<(u8, u8), SplitError> {
    let refused = SplitError::Parameters { shares, threshold };
    let (Ok(n), Ok(t)) = (u8::try_from(shares), u8::try_from(threshold)) else {
        return Err(refused);
    };
    if t == 0 || t > n || (t == 1 && n > 1) {
        return Err(refused);
    }
    Ok((n, t))
}

/// One share of a split; wiped on drop, never printed.
pub struct Share {
    set: [u8; SET_ID_LEN],
    index: u8,
    value: SecretBytes,
}

impl Share {
    /// Reads the text form (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Self, MalformedShare> {
        let text = text.trim();
        if text.len() > MAX_SHARE_TEXT {
            return Err(MalformedShare);
        }
        let body = text.strip_prefix(SHARE_PREFIX).ok_or(MalformedShare)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| MalformedShare)?;
        let bytes = SecretBytes::new(bytes);
        Self::from_bytes(bytes.expose_secret())
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, MalformedShare> {
        if bytes.len() != SHARE_LEN || bytes[0] != SHARE_V1 || bytes[1 + SET_ID_LEN] == 0 {
            return Err(MalformedShare);
        }
        let mut set = [0u8; SET_ID_LEN];
        set.copy_from_slice(&bytes[1..=SET_ID_LEN]);
        Ok(Self {
            set,
            index: bytes[1 + SET_ID_LEN],
            value: SecretBytes::new(bytes[2 + SET_ID_LEN..].to_vec()),
        })
    }

    /// The text form; the caller must keep it secret.
    pub fn to_text(&self) -> SecretBytes {
        let mut bytes = SecretBytes::zeroed(SHARE_LEN);
        let out = bytes.expose_secret_mut();
        out[0] = SHARE_V1;
        out[1..=SET_ID_LEN].copy_from_slice(&self.set);
        out[1 + SET_ID_LEN] = self.index;
        out[2 + SET_ID_LEN..].copy_from_slice(self.value.expose_secret());
        // Encoded straight into a buffer wiped on drop: no unwiped `String` copy.
        let encoded = base64::encoded_len(SHARE_LEN, false).unwrap_or_default();
        let mut text = SecretBytes::zeroed(SHARE_PREFIX.len() + encoded);
        let (prefix, body) = text.expose_secret_mut().split_at_mut(SHARE_PREFIX.len());
        prefix.copy_from_slice(SHARE_PREFIX.as_bytes());
        let written = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode_slice(bytes.expose_secret(), body)
            .unwrap_or_default();
        text.truncate(SHARE_PREFIX.len() + written);
        text
    }

    /// The id of the split this share belongs to.
    pub fn set(&self) -> [u8; SET_ID_LEN] {
        self.set
    }

    /// Its index (the x coordinate, 1..=255).
    pub fn index(&self) -> u8 {
        self.index
    }

    /// SHA-256 over a label, the split id, the index and the value: what the store keeps.
    pub fn digest(&self) -> [u8; 32] {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(DIGEST_LABEL);
        ctx.update(&self.set);
        ctx.update(&[self.index]);
        ctx.update(self.value.expose_secret());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }
}

/// Splits the 32-byte `secret` into `count` shares of the split `set`, any `threshold` of
/// which give it back.
pub fn split(
    secret: &SecretBytes,
    set: [u8; SET_ID_LEN],
    count: u8,
    threshold: u8,
    rng: &dyn SecureRandom,
) -> Result<Vec<Share>, SplitError> {
    check_parameters(u32::from(count), u32::from(threshold))?;
    if secret.len() != VALUE_LEN {
        return Err(SplitError::SecretLength);
    }
    let mut draw = Draw(rng);
    let dealer = blahaj::Sharks(threshold).dealer_rng(secret.expose_secret(), &mut draw);
    let shares = dealer
        .take(usize::from(count))
        .map(|share| {
            // [x, y...]: held wiped from here on.
            let bytes = SecretBytes::new(Vec::from(&share));
            Share {
                set,
                index: bytes.expose_secret()[0],
                value: SecretBytes::new(bytes.expose_secret()[1..].to_vec()),
            }
        })
        .collect();
    Ok(shares)
}

/// The secret that `shares` (of one split, distinct indexes, at least its threshold of them:
/// the caller checks all three) give back.
pub fn combine(shares: &[&Share]) -> SecretBytes {
    let points: Vec<blahaj::Share> = shares
        .iter()
        .filter_map(|s| {
            let mut bytes = SecretBytes::zeroed(1 + VALUE_LEN);
            bytes.expose_secret_mut()[0] = s.index;
            bytes.expose_secret_mut()[1..].copy_from_slice(s.value.expose_secret());
            blahaj::Share::try_from(bytes.expose_secret()).ok()
        })
        .collect();
    let threshold = u8::try_from(points.len()).unwrap_or(u8::MAX);
    // Interpolating through every given point: any threshold-sized subset gives the same.
    let secret = blahaj::Sharks(threshold)
        .recover(&points)
        .unwrap_or_default();
    SecretBytes::new(secret)
}

/// A [`SecureRandom`] as the `rand_core` generator `blahaj` draws coefficients from.
pub(crate) struct Draw<'a>(pub(crate) &'a dyn SecureRandom);

impl rand_core::TryRng for Draw<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Draw<'_> {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::random::OsRandom;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn share(index: u8, value: Vec<u8>) -> Share {
        Share {
            set: [7; SET_ID_LEN],
            index,
            value: SecretBytes::new(value),
        }
    }

    /// A split of the bytes 1..=32 with threshold 3, made by an independent implementation
    /// (Python, shift-and-add multiplication modulo 0x11d, no tables): for byte i the
    /// polynomial secret[i] + (0xA0 + i)x + (0x37 ^ i)x^2, at x = 1..=5.
    const VECTOR: [&str; 5] = [
        "969594939291909f9e9d9c9b9a999887868584838281808f8e8d8c8b8a8988b7",
        "80858e8f9c99929bb8bdb6b7a4a1aab3f0f5feffece9e2ebc8cdc6c7d4d1dae3",
        "171219180b0e050c2f2a212033363d24676269687b7e757c5f5a515043464d74",
        "ecfbc6d5b8af928944536e7d10073a31a1b68b98f5e2dfc4091e23305d4a775c",
        "7b6c51422f38051ed3c4f9ea8790ada636211c0f627548539e89b4a7cadde0cb",
    ];

    #[test]
    fn a_known_split_recombines_from_any_three_shares() {
        let shares: Vec<Share> = (1u8..=5)
            .map(|x| share(x, hex(VECTOR[usize::from(x) - 1])))
            .collect();
        let expected: Vec<u8> = (1..=32).collect();
        for (a, b, c) in [(0, 1, 2), (0, 2, 4), (1, 3, 4), (4, 2, 0), (2, 3, 4)] {
            let got = combine(&[&shares[a], &shares[b], &shares[c]]);
            assert_eq!(got.expose_secret(), &expected[..], "shares {a},{b},{c}");
        }
        let two = combine(&[&shares[0], &shares[1]]);
        assert_ne!(
            two.expose_secret(),
            &expected[..],
            "two shares of threshold 3"
        );
    }

    #[test]
    fn parameters_are_checked() {
        for (n, t) in [(1, 1), (2, 2), (5, 3), (255, 255), (255, 2)] {
            assert!(check_parameters(n, t).is_ok(), "{n}/{t}");
        }
        for (n, t) in [(0, 0), (1, 0), (3, 1), (2, 3), (256, 2), (300, 300)] {
            assert!(check_parameters(n, t).is_err(), "{n}/{t}");
        }
    }

    #[test]
    fn text_round_trip_and_malformed_shares() {
        let rng = OsRandom::new();
        let secret = SecretBytes::new(vec![9; 32]);
        let shares = split(&secret, [1, 2, 3, 4, 5, 6, 7, 8], 3, 2, &rng).unwrap();
        let text = shares[1].to_text();
        let text = std::str::from_utf8(text.expose_secret()).unwrap();
        assert!(
            text.starts_with(SHARE_PREFIX) && text.len() == 6 + 56,
            "{}",
            text.len()
        );
        let back = Share::parse(&format!("  {text}\n")).unwrap();
        assert_eq!(back.index(), 2);
        assert_eq!(back.set(), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(back.digest(), shares[1].digest());
        for bad in [
            "",
            "okms1-",
            &text[6..],
            &text[..text.len() - 1],
            &format!("{text}AA"),
            &text.replace("okms1-", "okms2-"),
            &format!("{text}{}", "A".repeat(200)),
        ] {
            assert!(Share::parse(bad).is_err(), "{bad:?}");
        }
        // Index 0 would be the secret itself: never a share.
        let zero = share(0, vec![1; 32]).to_text();
        assert!(Share::parse(std::str::from_utf8(zero.expose_secret()).unwrap()).is_err());
    }

    #[test]
    fn digests_tell_shares_apart() {
        let a = share(1, vec![1; 32]);
        let b = share(1, vec![2; 32]);
        let c = share(2, vec![1; 32]);
        assert_ne!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn any_threshold_shares_recombine_and_fewer_do_not(
            secret in proptest::collection::vec(any::<u8>(), 32),
            (n, t) in (2u8..=12).prop_flat_map(|n| (Just(n), 2..=n)),
            seed in any::<u64>(),
        ) {
            let rng = OsRandom::new();
            let secret = SecretBytes::new(secret);
            let shares = split(&secret, [0; 8], n, t, &rng).unwrap();
            prop_assert_eq!(shares.len(), usize::from(n));
            // A pseudo-random choice of t distinct shares, and of t - 1 of them.
            let mut order: Vec<usize> = (0..usize::from(n)).collect();
            let mut state = seed | 1;
            for i in (1..order.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                order.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let chosen: Vec<&Share> = order[..usize::from(t)].iter().map(|&i| &shares[i]).collect();
            let whole = combine(&chosen);
            prop_assert_eq!(whole.expose_secret(), secret.expose_secret());
            let fewer = combine(&chosen[..usize::from(t) - 1]);
            prop_assert_ne!(fewer.expose_secret(), secret.expose_secret());
        }
    }
}
