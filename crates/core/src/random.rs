//! Randomness as an injected dependency.
//!
//! Key material, nonces, salts, identifiers and generated secrets all come from a
//! [`SecureRandom`]. The production source is the operating system's CSPRNG through aws-lc-rs;
//! tests may supply their own. This module does not decide what the random bytes are used for.

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};

/// A cryptographically secure source of random bytes.
pub trait SecureRandom: Send + Sync + 'static {
    /// Fills `dest` with random bytes. Failure of the OS source is not recoverable.
    fn fill(&self, dest: &mut [u8]);
}

/// The operating system's CSPRNG.
#[derive(Debug, Default)]
pub struct OsRandom(SystemRandom);

impl OsRandom {
    /// The system random source.
    pub fn new() -> Self {
        Self(SystemRandom::new())
    }
}

impl SecureRandom for OsRandom {
    fn fill(&self, dest: &mut [u8]) {
        // The OS generator failing means the machine cannot do cryptography at all; continuing
        // with predictable bytes would be far worse than stopping.
        #[allow(clippy::expect_used)]
        self.0
            .fill(dest)
            .expect("the operating system's random source failed");
    }
}

/// A random version-4 UUID in lowercase hyphenated form (36 ASCII characters).
pub fn uuid_v4(rng: &dyn SecureRandom) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    uuid::Builder::from_random_bytes(b)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// A random string of `len` characters from `alphabet` (rejection sampling, no modulo bias).
pub fn random_string(rng: &dyn SecureRandom, alphabet: &[u8], len: usize) -> String {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    let mut byte = [0u8; 1];
    while out.len() < len {
        rng.fill(&mut byte);
        if usize::from(byte[0]) < limit {
            out.push(char::from(alphabet[usize::from(byte[0]) % alphabet.len()]));
        }
    }
    out
}
