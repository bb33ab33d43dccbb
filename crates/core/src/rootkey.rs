//! The root key: the one key that wraps every other secret at rest, and [`RootSeal`], the
//! custody through which it is used.
//!
//! Key material and AccessKey secrets are stored only as [`RootSeal::wrap`] output, with the
//! record's label and id bound as associated data, so a wrapped blob cannot be moved to another
//! record. A [`RootKey`] held in memory (read from `root.key`, or put together from unseal
//! shares) wraps as a format byte, a random 96-bit nonce and AES-256-GCM ciphertext with tag; a
//! PKCS#11 token (another crate) wraps inside the token. A check value sealed at first start
//! lets the server tell a wrong root key from a right one before serving. Reading the root key
//! from a file, the environment or shares is the binary's job.
//!
//! Listing cursors are sealed by a [`CursorKey`]: a random key kept in the store wrapped under
//! the root key, so that custody which cannot derive keys (a token) still serves them. Each
//! cursor is sealed under a key derived per cursor (HKDF-SHA256, random 96-bit salt,
//! `openkms/v1/cursor`), so however many cursors are handed out no key's nonce budget is spent
//! and a (key, nonce) pair repeats only if 192 random bits do. Every node sharing the store
//! opens every node's cursors, also after a restart.

use base64::Engine as _;

use crate::crypto::{NONCE_LEN, SALT_LEN, TAG_LEN, aes_open, aes_seal, derive_key};
use crate::error::KmsError;
use crate::random::SecureRandom;
use crate::secret::SecretBytes;

/// Length of the root key in bytes.
pub const ROOT_KEY_LEN: usize = 32;
/// Format byte of wrapped secrets.
const WRAP_V1: u8 = 0x01;
/// Associated-data prefix for wrapped secrets.
const WRAP_AAD: &[u8] = b"openkms/v1/wrap/";
/// Format byte of sealed cursors.
const CURSOR_V1: u8 = 0x01;
/// HKDF `info` of cursor keys, and the associated-data prefix of cursors.
const CURSOR_INFO: &[u8] = b"openkms/v1/cursor/";
/// HKDF info of the key that fingerprints imported key material (BYOK).
const FINGERPRINT_INFO: &[u8] = b"openkms/v1/import-fingerprint";
/// The label of the check value.
const CHECK_LABEL: &str = "root-key-check";
/// The plaintext of the check value.
const CHECK_PLAINTEXT: &[u8] = b"openkms root key check";

/// Custody of the root key: whatever holds it wraps and unwraps the secrets stored under it.
///
/// Implementations bind `label` and `id` to the wrapped bytes (a blob wrapped for one record
/// does not unwrap for another) and report every failure to unwrap as [`KmsError::Corrupt`].
pub trait RootSeal: Send + Sync + 'static {
    /// Where the root key lives: `"memory"` (a file or unseal shares), `"pkcs11"`.
    fn custody(&self) -> &'static str;

    /// Seals `secret` for the record named `label`/`id`; `rng` supplies nonces where the
    /// custody takes them from the caller.
    fn wrap(
        &self,
        rng: &dyn SecureRandom,
        label: &str,
        id: &str,
        secret: &[u8],
    ) -> Result<Vec<u8>, KmsError>;

    /// Opens what [`RootSeal::wrap`] sealed for the same `label`/`id`.
    fn unwrap(&self, label: &str, id: &str, wrapped: &[u8]) -> Result<SecretBytes, KmsError>;
}

/// A check value that [`verify_check`] accepts only under the same root key.
pub fn check_value(seal: &dyn RootSeal, rng: &dyn SecureRandom) -> Result<Vec<u8>, KmsError> {
    seal.wrap(rng, CHECK_LABEL, "", CHECK_PLAINTEXT)
}

/// Whether `check` was made by [`check_value`] under the root key `seal` holds.
pub fn verify_check(seal: &dyn RootSeal, check: &[u8]) -> bool {
    seal.unwrap(CHECK_LABEL, "", check)
        .is_ok_and(|p| p.ct_eq(CHECK_PLAINTEXT))
}

/// The root key held in memory; wiped on drop, never printed.
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

    /// The key's bytes, for splitting into unseal shares ([`crate::unseal`]).
    pub(crate) fn secret(&self) -> &SecretBytes {
        &self.0
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
        verify_check(self, check)
    }
}

impl RootSeal for RootKey {
    fn custody(&self) -> &'static str {
        "memory"
    }

    fn wrap(
        &self,
        rng: &dyn SecureRandom,
        label: &str,
        id: &str,
        secret: &[u8],
    ) -> Result<Vec<u8>, KmsError> {
        Ok(RootKey::wrap(self, rng, label, id, secret))
    }

    fn unwrap(&self, label: &str, id: &str, wrapped: &[u8]) -> Result<SecretBytes, KmsError> {
        RootKey::unwrap(self, label, id, wrapped)
    }
}

/// The key that seals listing cursors: random, stored wrapped under the root key with the
/// label `cursor-key`; wiped on drop, never printed.
#[derive(Debug)]
pub struct CursorKey(SecretBytes);

/// Wrap label of the cursor key.
pub const CURSOR_KEY_LABEL: &str = "cursor-key";

impl CursorKey {
    /// A fresh random cursor key.
    pub fn generate(rng: &dyn SecureRandom) -> Self {
        let mut key = SecretBytes::zeroed(ROOT_KEY_LEN);
        rng.fill(key.expose_secret_mut());
        Self(key)
    }

    /// The cursor key wrapped under `seal`, to store.
    pub fn wrap_under(
        &self,
        seal: &dyn RootSeal,
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, KmsError> {
        seal.wrap(rng, CURSOR_KEY_LABEL, "", self.0.expose_secret())
    }

    /// The cursor key [`CursorKey::wrap_under`] stored; [`KmsError::Corrupt`] for anything
    /// else.
    pub fn unwrap_from(seal: &dyn RootSeal, wrapped: &[u8]) -> Result<Self, KmsError> {
        let key = seal.unwrap(CURSOR_KEY_LABEL, "", wrapped)?;
        match key.len() == ROOT_KEY_LEN {
            true => Ok(Self(key)),
            false => Err(KmsError::Corrupt),
        }
    }

    /// A keyed fingerprint (HMAC-SHA256) of key material imported into `key_id`, under a key
    /// derived from this secret (HKDF, its own info string, so it is independent of cursor
    /// sealing). Who lacks the secret learns nothing about the material from it; the same
    /// material imported into another key has another fingerprint. Survives root-key
    /// rotation (the secret is rewrapped, not replaced).
    pub fn material_fingerprint(&self, key_id: &str, material: &[u8]) -> [u8; 32] {
        let key = derive_key(self.0.expose_secret(), &[], FINGERPRINT_INFO);
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key.expose_secret());
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
        ctx.update(&(key_id.len() as u64).to_be_bytes());
        ctx.update(key_id.as_bytes());
        ctx.update(material);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Seals a listing cursor of `kind` (bound as associated data, so a cursor of one listing
    /// is not accepted by another): a format byte, a key-derivation salt, a nonce, then
    /// AES-256-GCM ciphertext and tag. Nothing of `position` can be read from the output.
    pub fn seal_cursor(&self, rng: &dyn SecureRandom, kind: &str, position: &[u8]) -> Vec<u8> {
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut salt);
        rng.fill(&mut nonce);
        let key = derive_key(self.0.expose_secret(), &salt, CURSOR_INFO);
        let mut out = Vec::with_capacity(1 + SALT_LEN + NONCE_LEN + position.len() + TAG_LEN);
        out.push(CURSOR_V1);
        out.extend_from_slice(&salt);
        out.extend_from_slice(&nonce);
        // Sealing with a valid 32-byte key cannot fail.
        out.extend(aes_seal(&key, &nonce, &cursor_aad(kind), position).unwrap_or_default());
        out
    }

    /// The position [`CursorKey::seal_cursor`] sealed for `kind`; `None` for anything else (a
    /// forged, altered or truncated cursor, another kind's, or one sealed under another
    /// cursor key).
    pub fn open_cursor(&self, kind: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let (&format, rest) = sealed.split_first()?;
        if format != CURSOR_V1 || rest.len() < SALT_LEN + NONCE_LEN + TAG_LEN {
            return None;
        }
        let (salt, rest) = rest.split_at(SALT_LEN);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let key = derive_key(self.0.expose_secret(), salt, CURSOR_INFO);
        let opened = aes_open(&key, &nonce, &cursor_aad(kind), sealed).ok()?;
        Some(opened.expose_secret().to_vec())
    }
}

fn cursor_aad(kind: &str) -> Vec<u8> {
    [CURSOR_INFO, kind.as_bytes()].concat()
}

/// The associated data binding a wrapped secret to its record: `openkms/v1/wrap/<label>\0<id>`
/// (shared with custody that wraps elsewhere, such as a PKCS#11 token).
pub fn wrap_aad(label: &str, id: &str) -> Vec<u8> {
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
    fn cursors_are_sealed_and_bound_to_their_kind() {
        let rng = OsRandom::new();
        let root = CursorKey::generate(&rng);
        let position = b"key-0123456789/secret-tag";
        let sealed = root.seal_cursor(&rng, "tags", position);
        assert!(
            !sealed
                .windows(8)
                .any(|w| position.windows(8).any(|p| p == w))
        );
        assert_eq!(
            root.open_cursor("tags", &sealed).as_deref(),
            Some(&position[..])
        );
        assert_ne!(
            sealed,
            root.seal_cursor(&rng, "tags", position),
            "fresh salt and nonce"
        );
        assert_eq!(root.open_cursor("user", &sealed), None, "another listing's");
        assert_eq!(CursorKey::generate(&rng).open_cursor("tags", &sealed), None);
        for i in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[i] ^= 1;
            assert_eq!(root.open_cursor("tags", &altered), None, "byte {i}");
        }
        for len in 0..sealed.len() {
            assert_eq!(
                root.open_cursor("tags", &sealed[..len]),
                None,
                "{len} bytes"
            );
        }
    }

    #[test]
    fn the_cursor_key_is_stored_wrapped_under_the_root_key() {
        let rng = OsRandom::new();
        let root = RootKey::generate(&rng);
        let key = CursorKey::generate(&rng);
        let wrapped = key.wrap_under(&root, &rng).unwrap();
        let again = CursorKey::unwrap_from(&root, &wrapped).unwrap();
        let sealed = key.seal_cursor(&rng, "keys", b"position");
        assert_eq!(
            again.open_cursor("keys", &sealed).as_deref(),
            Some(&b"position"[..])
        );
        assert!(CursorKey::unwrap_from(&RootKey::generate(&rng), &wrapped).is_err());
        let check = check_value(&root, &rng).unwrap();
        assert!(
            CursorKey::unwrap_from(&root, &check).is_err(),
            "another record's blob"
        );
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
