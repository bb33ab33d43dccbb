//! GetRandomPassword: a random password from the OS CSPRNG, for secrets people type.
//!
//! The characters are drawn uniformly (rejection sampling, no modulo bias) from the classes
//! the request keeps — lowercase, uppercase, digits and the documented punctuation set (no
//! backtick) — minus the excluded characters. With `require_each`, one character of every
//! kept class is drawn from that class first, the rest from the whole pool, and the result is
//! shuffled (Fisher–Yates) so those characters sit anywhere.

use openkms_core::Field;
use openkms_core::random::{OsRandom, SecureRandom};
use openkms_core::{InvalidReason, KmsError, SecretBytes};

use crate::{Call, OpName, Operation, Touch};

/// Shortest password.
pub const MIN_PASSWORD_LENGTH: usize = 8;
/// Longest password.
pub const MAX_PASSWORD_LENGTH: usize = 128;
/// Length when none is asked for.
pub const DEFAULT_PASSWORD_LENGTH: usize = 32;

const LOWERCASE: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPERCASE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const PUNCTUATION: &[u8] = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_{|}~";

/// A GetRandomPassword request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRandomPassword {
    /// How many characters (8-128).
    pub length: usize,
    /// Characters never to use.
    pub exclude_characters: String,
    /// Leave out a-z.
    pub exclude_lowercase: bool,
    /// Leave out A-Z.
    pub exclude_uppercase: bool,
    /// Leave out 0-9.
    pub exclude_numbers: bool,
    /// Leave out punctuation.
    pub exclude_punctuation: bool,
    /// At least one character of every class kept.
    pub require_each: bool,
}

impl Default for GetRandomPassword {
    fn default() -> Self {
        Self {
            length: DEFAULT_PASSWORD_LENGTH,
            exclude_characters: String::new(),
            exclude_lowercase: false,
            exclude_uppercase: false,
            exclude_numbers: false,
            exclude_punctuation: false,
            require_each: false,
        }
    }
}

impl Operation for GetRandomPassword {
    const NAME: OpName = OpName::kms("GetRandomPassword");
    type Output = SecretBytes;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::account(call.kms)]
    }

    async fn execute(self, _: &Call<'_>) -> Result<SecretBytes, KmsError> {
        self.generate(&OsRandom::new())
    }
}

impl GetRandomPassword {
    /// The password, from `rng`.
    pub fn generate(&self, rng: &dyn SecureRandom) -> Result<SecretBytes, KmsError> {
        let invalid = || KmsError::invalid(Field::PasswordLength, InvalidReason::OutOfRange);
        if !(MIN_PASSWORD_LENGTH..=MAX_PASSWORD_LENGTH).contains(&self.length) {
            return Err(invalid());
        }
        let classes = self.classes();
        let pool: Vec<u8> = classes.concat();
        if pool.is_empty() {
            return Err(invalid());
        }
        let mut out = SecretBytes::zeroed(self.length);
        let password = out.expose_secret_mut();
        let required = match self.require_each {
            true => classes.len(),
            false => 0,
        };
        for (slot, class) in password.iter_mut().zip(&classes).take(required) {
            *slot = class[pick(rng, class.len())];
        }
        for slot in &mut password[required..] {
            *slot = pool[pick(rng, pool.len())];
        }
        shuffle(rng, password);
        Ok(out)
    }

    /// The kept classes, each without the excluded characters; empty classes dropped.
    fn classes(&self) -> Vec<Vec<u8>> {
        let excluded = self.exclude_characters.as_bytes();
        [
            (LOWERCASE, self.exclude_lowercase),
            (UPPERCASE, self.exclude_uppercase),
            (DIGITS, self.exclude_numbers),
            (PUNCTUATION, self.exclude_punctuation),
        ]
        .into_iter()
        .filter(|(_, excluded_class)| !excluded_class)
        .map(|(class, _)| {
            class
                .iter()
                .copied()
                .filter(|c| !excluded.contains(c))
                .collect()
        })
        .filter(|class: &Vec<u8>| !class.is_empty())
        .collect()
    }
}

/// A uniform index below `n` (1..=256), by rejection sampling.
fn pick(rng: &dyn SecureRandom, n: usize) -> usize {
    let limit = 256 - (256 % n);
    let mut byte = [0u8; 1];
    loop {
        rng.fill(&mut byte);
        if usize::from(byte[0]) < limit {
            return usize::from(byte[0]) % n;
        }
    }
}

/// Fisher–Yates.
fn shuffle(rng: &dyn SecureRandom, items: &mut [u8]) {
    for i in (1..items.len()).rev() {
        items.swap(i, pick(rng, i + 1));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn password(request: &GetRandomPassword) -> String {
        let out = request.generate(&OsRandom::new()).unwrap();
        String::from_utf8(out.expose_secret().to_vec()).unwrap()
    }

    #[test]
    fn default_is_32_characters_of_the_four_classes() {
        let text = password(&GetRandomPassword::default());
        assert_eq!(text.len(), 32);
        let all = [LOWERCASE, UPPERCASE, DIGITS, PUNCTUATION].concat();
        assert!(text.bytes().all(|c| all.contains(&c)));
        assert!(!text.contains('`'));
    }

    #[test]
    fn exclusions_and_required_classes_hold() {
        let request = GetRandomPassword {
            length: 8,
            exclude_characters: "abcdefghijklmnopqrstuvwxy0123456789".into(),
            exclude_punctuation: true,
            require_each: true,
            ..GetRandomPassword::default()
        };
        for _ in 0..200 {
            let text = password(&request);
            assert_eq!(text.len(), 8);
            assert!(text.contains('z'), "{text}: the one lowercase letter left");
            assert!(text.bytes().any(|c| c.is_ascii_uppercase()), "{text}");
            assert!(
                text.bytes().all(|c| c == b'z' || c.is_ascii_uppercase()),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_bad_lengths_and_empty_pools() {
        for length in [0, 7, 129] {
            let request = GetRandomPassword {
                length,
                ..GetRandomPassword::default()
            };
            assert!(request.generate(&OsRandom::new()).is_err());
        }
        let nothing = GetRandomPassword {
            exclude_lowercase: true,
            exclude_uppercase: true,
            exclude_numbers: true,
            exclude_punctuation: true,
            ..GetRandomPassword::default()
        };
        assert!(nothing.generate(&OsRandom::new()).is_err());
        let all_excluded = GetRandomPassword {
            exclude_characters: "0123456789".into(),
            exclude_lowercase: true,
            exclude_uppercase: true,
            exclude_punctuation: true,
            ..GetRandomPassword::default()
        };
        assert!(all_excluded.generate(&OsRandom::new()).is_err());
    }

    #[test]
    fn characters_are_spread_over_the_pool() {
        let request = GetRandomPassword {
            length: 128,
            exclude_uppercase: true,
            exclude_lowercase: true,
            exclude_punctuation: true,
            ..GetRandomPassword::default()
        };
        let mut counts = [0usize; 10];
        for _ in 0..80 {
            for c in password(&request).bytes() {
                counts[usize::from(c - b'0')] += 1;
            }
        }
        // 10,240 draws over 10 digits: each near 1,024; a biased or stuck draw falls far out.
        assert!(
            counts.iter().all(|&n| (850..1200).contains(&n)),
            "{counts:?}"
        );
    }
}
