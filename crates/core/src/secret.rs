//! Secret byte buffers that wipe themselves.
//!
//! [`SecretBytes`] holds key material, data keys, plaintexts and AccessKey secrets. It derives
//! neither `Clone`, `PartialEq` nor `Serialize`; its `Debug` prints only the length, and the
//! bytes are reachable only through [`SecretBytes::expose_secret`]. Comparison is constant-time.
//! This module does not decide where secrets come from or how they are stored.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// A buffer of secret bytes, zeroed when dropped.
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are wiped when the value is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A buffer of `len` zero bytes, to be filled in place (for example by a random source).
    pub fn zeroed(len: usize) -> Self {
        Self::new(vec![0u8; len])
    }

    /// The secret bytes. Callers must not copy them into types that do not wipe themselves.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Mutable access, for filling a fresh buffer.
    pub fn expose_secret_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Length in bytes (not secret).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time equality with another byte string.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        self.0.len() == other.len() && bool::from(self.0.as_slice().ct_eq(other))
    }

    /// Shortens the buffer to `len` bytes, wiping the bytes cut off (no effect if not longer).
    pub fn truncate(&mut self, len: usize) {
        if let Some(tail) = self.0.get_mut(len..) {
            tail.zeroize();
        }
        self.0.truncate(len);
    }

    /// An explicit copy; named so that every duplication of a secret is visible in review.
    pub fn duplicate(&self) -> Self {
        Self::new(self.0.to_vec())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {} bytes])", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_bytes() {
        let s = SecretBytes::new(b"supersecret".to_vec());
        let shown = format!("{s:?}");
        assert!(!shown.contains("supersecret"));
        assert!(shown.contains("11 bytes"));
    }

    #[test]
    fn constant_time_compare() {
        let s = SecretBytes::new(b"abc".to_vec());
        assert!(s.ct_eq(b"abc"));
        assert!(!s.ct_eq(b"abd"));
        assert!(!s.ct_eq(b"ab"));
    }

    #[test]
    fn truncate_keeps_the_front() {
        let mut s = SecretBytes::new(b"abcdef".to_vec());
        s.truncate(2);
        assert!(s.ct_eq(b"ab"));
        s.truncate(9);
        assert_eq!(s.len(), 2);
    }
}
