//! The root key: the one key that wraps every other secret at rest.
//!
//! Key material and AccessKey secrets are stored only as [`RootKey::wrap`] output: a format
//! byte, a random 96-bit nonce and AES-256-GCM ciphertext with tag, with the record's id bound
//! as associated data, so a wrapped blob cannot be moved to another record. A check value
//! sealed at first start lets the server tell a wrong root key from a right one before
//! serving. Reading the root key from a file or the environment is the binary's job.

use base64::Engine as _;

use crate::crypto::{NONCE_LEN, TAG_LEN, aes_open, aes_seal};
use crate::error::KmsError;
use crate::random::SecureRandom;
use crate::secret::SecretBytes;

/// Length of the root key in bytes.
pub const ROOT_KEY_LEN: usize = 32;
/// Format byte of wrapped secrets.
const WRAP_V1: u8 = 0x01;
/// Associated-data prefix for wrapped secrets.
const WRAP_AAD: &[u8] = b"openkms/v1/wrap/";
/// The label of the check value.
const CHECK_LABEL: &str = "root-key-check";
/// The plaintext of the check value.
const CHECK_PLAINTEXT: &[u8] = b"openkms root key check";

/// The root key; wiped on drop, never printed.
#[derive(Debug)]
pub struct RootKey(SecretBytes);

impl RootKey {
    /// A fresh random root key.
    pub fn generate(rng: &dyn SecureRandom) -> Self {
        let mut key = SecretBytes::zeroed(ROOT_KEY_LEN);
        rng.fill(key.expose_secret_mut());
        Self(key)
    }

    /// Wraps raw key bytes; `None` unless exactly 32 bytes.
    pub fn from_bytes(bytes: SecretBytes) -> Option<Self> {
        (bytes.len() == ROOT_KEY_LEN).then_some(Self(bytes))
    }

    /// Parses the text form (standard base64 of 32 bytes, surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()?;
        Self::from_bytes(SecretBytes::new(bytes))
    }

    /// The text form: standard base64 of the 32 bytes. The caller must keep it secret.
    pub fn to_base64(&self) -> SecretBytes {
        let text = base64::engine::general_purpose::STANDARD.encode(self.0.expose_secret());
        SecretBytes::new(text.into_bytes())
    }

    /// Seals `secret` for the record named `label`/`id`.
    pub fn wrap(&self, rng: &dyn SecureRandom, label: &str, id: &str, secret: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let aad = wrap_aad(label, id);
        let mut out = Vec::with_capacity(1 + NONCE_LEN + secret.len() + TAG_LEN);
        out.push(WRAP_V1);
        out.extend_from_slice(&nonce);
        // Sealing with a valid 32-byte key cannot fail.
        out.extend(aes_seal(&self.0, &nonce, &aad, secret).unwrap_or_default());
        out
    }

    /// Opens what [`RootKey::wrap`] sealed for the same `label`/`id`. A wrong root key, a
    /// blob moved between records or a corrupted blob is [`KmsError::Corrupt`].
    pub fn unwrap(&self, label: &str, id: &str, wrapped: &[u8]) -> Result<SecretBytes, KmsError> {
        if wrapped.len() < 1 + NONCE_LEN + TAG_LEN || wrapped[0] != WRAP_V1 {
            return Err(KmsError::Corrupt);
        }
        let nonce: [u8; NONCE_LEN] = wrapped[1..=NONCE_LEN]
            .try_into()
            .map_err(|_| KmsError::Corrupt)?;
        aes_open(
            &self.0,
            &nonce,
            &wrap_aad(label, id),
            &wrapped[1 + NONCE_LEN..],
        )
        .map_err(|_| KmsError::Corrupt)
    }

    /// A check value that [`RootKey::verify_check`] accepts only under this key.
    pub fn check_value(&self, rng: &dyn SecureRandom) -> Vec<u8> {
        self.wrap(rng, CHECK_LABEL, "", CHECK_PLAINTEXT)
    }

    /// Whether `check` was made by [`RootKey::check_value`] under this key.
    pub fn verify_check(&self, check: &[u8]) -> bool {
        self.unwrap(CHECK_LABEL, "", check)
            .is_ok_and(|p| p.ct_eq(CHECK_PLAINTEXT))
    }
}

fn wrap_aad(label: &str, id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(WRAP_AAD.len() + label.len() + 1 + id.len());
    aad.extend_from_slice(WRAP_AAD);
    aad.extend_from_slice(label.as_bytes());
    aad.push(0);
    aad.extend_from_slice(id.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    #[test]
    fn wrap_binds_the_record() {
        let rng = OsRandom::new();
        let root = RootKey::generate(&rng);
        let w = root.wrap(&rng, "key-version", "v1", b"material");
        assert_eq!(
            root.unwrap("key-version", "v1", &w)
                .unwrap()
                .expose_secret(),
            b"material"
        );
        assert!(root.unwrap("key-version", "v2", &w).is_err());
        assert!(root.unwrap("access-key", "v1", &w).is_err());
        let other = RootKey::generate(&rng);
        assert!(other.unwrap("key-version", "v1", &w).is_err());
    }

    #[test]
    fn check_value_tells_keys_apart() {
        let rng = OsRandom::new();
        let root = RootKey::generate(&rng);
        let check = root.check_value(&rng);
        assert!(root.verify_check(&check));
        assert!(!RootKey::generate(&rng).verify_check(&check));
    }

    #[test]
    fn base64_round_trip_and_debug_redacts() {
        let rng = OsRandom::new();
        let root = RootKey::generate(&rng);
        let text = root.to_base64();
        let again = RootKey::from_base64(std::str::from_utf8(text.expose_secret()).unwrap());
        let again = again.unwrap();
        let w = root.wrap(&rng, "l", "i", b"x");
        assert!(again.unwrap("l", "i", &w).is_ok());
        assert!(!format!("{root:?}").contains(std::str::from_utf8(text.expose_secret()).unwrap()));
        assert!(RootKey::from_base64("c2hvcnQ=").is_none());
    }
}
