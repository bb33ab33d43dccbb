//! The AEAD constructions: per-message keys for customer data, plain AES-256-GCM for wrapping.
//!
//! Customer data is sealed under a key derived per message from the version's material and a
//! random 96-bit salt (HKDF-SHA256), with a random 96-bit GCM nonce. A (derived key, nonce)
//! pair repeats only if both 192 random bits repeat, so one key version can serve about 2^80
//! encryptions before the chance of any repeat reaches 2^-32 (`docs/ciphertext-format.md`).
//! AES-256 keys use AES-256-GCM (aws-lc-rs); SM4 keys use SM4-GCM (RustCrypto).
//!
//! This module only transforms bytes; the byte layout of a ciphertext lives in
//! [`crate::ciphertext`], and which key to use is the service's decision.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::hkdf;

use crate::error::KmsError;
use crate::model::KeySpec;
use crate::secret::SecretBytes;

/// Length of the GCM authentication tag.
pub const TAG_LEN: usize = 16;
/// Length of the GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Length of the per-message key-derivation salt.
pub const SALT_LEN: usize = 12;

/// HKDF `info` for per-message keys; changing it changes every derived key.
const MESSAGE_KEY_INFO: &[u8] = b"openkms/v1/message-key";

type Sm4Gcm = aes_gcm::AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

/// An HKDF output length.
struct OutLen(usize);

impl hkdf::KeyType for OutLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// Derives the per-message key for `spec` from the version material and the salt.
fn message_key(spec: KeySpec, material: &SecretBytes, salt: &[u8; SALT_LEN]) -> SecretBytes {
    let mut out = SecretBytes::zeroed(spec.material_len());
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(material.expose_secret());
    // HKDF-SHA256 can expand up to 8160 bytes; 32 is always within range.
    let okm = prk.expand(&[MESSAGE_KEY_INFO], OutLen(out.len()));
    if let Ok(okm) = okm {
        let _ = okm.fill(out.expose_secret_mut());
    }
    out
}

/// Seals `plaintext` with a per-message key; returns ciphertext followed by the 16-byte tag.
pub fn seal_message(
    spec: KeySpec,
    material: &SecretBytes,
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let key = message_key(spec, material, salt);
    match spec {
        KeySpec::AliyunAes256 => aes_seal(&key, nonce, aad, plaintext),
        KeySpec::AliyunSm4 => sm4_seal(&key, nonce, aad, plaintext),
    }
}

/// Opens what [`seal_message`] produced. Every failure is [`KmsError::InvalidCiphertext`].
pub fn open_message(
    spec: KeySpec,
    material: &SecretBytes,
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretBytes, KmsError> {
    let key = message_key(spec, material, salt);
    match spec {
        KeySpec::AliyunAes256 => aes_open(&key, nonce, aad, sealed),
        KeySpec::AliyunSm4 => sm4_open(&key, nonce, aad, sealed),
    }
}

/// AES-256-GCM seal with an explicit nonce; output is ciphertext ‖ tag.
pub fn aes_seal(
    key: &SecretBytes,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let key = aes_key(key)?;
    let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
    buf.extend_from_slice(plaintext);
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        &mut buf,
    )
    .map_err(|_| KmsError::Corrupt)?;
    Ok(buf)
}

/// AES-256-GCM open of ciphertext ‖ tag.
pub fn aes_open(
    key: &SecretBytes,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretBytes, KmsError> {
    let key = aes_key(key).map_err(|_| KmsError::InvalidCiphertext)?;
    let mut buf = SecretBytes::new(sealed.to_vec());
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            buf.expose_secret_mut(),
        )
        .map_err(|_| KmsError::InvalidCiphertext)?
        .len();
    Ok(SecretBytes::new(buf.expose_secret()[..len].to_vec()))
}

fn aes_key(key: &SecretBytes) -> Result<LessSafeKey, KmsError> {
    UnboundKey::new(&AES_256_GCM, key.expose_secret())
        .map(LessSafeKey::new)
        .map_err(|_| KmsError::Corrupt)
}

fn sm4_seal(
    key: &SecretBytes,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let cipher = Sm4Gcm::new_from_slice(key.expose_secret()).map_err(|_| KmsError::Corrupt)?;
    cipher
        .encrypt(
            &(*nonce).into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| KmsError::Corrupt)
}

fn sm4_open(
    key: &SecretBytes,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretBytes, KmsError> {
    let cipher =
        Sm4Gcm::new_from_slice(key.expose_secret()).map_err(|_| KmsError::InvalidCiphertext)?;
    cipher
        .decrypt(&(*nonce).into(), Payload { msg: sealed, aad })
        .map(SecretBytes::new)
        .map_err(|_| KmsError::InvalidCiphertext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn material(spec: KeySpec) -> SecretBytes {
        SecretBytes::new((0..spec.material_len() as u8).collect())
    }

    #[test]
    fn round_trip_both_specs() {
        for spec in [KeySpec::AliyunAes256, KeySpec::AliyunSm4] {
            let m = material(spec);
            let sealed = seal_message(spec, &m, &[1; 12], &[2; 12], b"aad", b"hello").unwrap();
            assert_eq!(sealed.len(), 5 + TAG_LEN);
            let opened = open_message(spec, &m, &[1; 12], &[2; 12], b"aad", &sealed).unwrap();
            assert_eq!(opened.expose_secret(), b"hello");
        }
    }

    #[test]
    fn any_change_fails() {
        for spec in [KeySpec::AliyunAes256, KeySpec::AliyunSm4] {
            let m = material(spec);
            let sealed = seal_message(spec, &m, &[1; 12], &[2; 12], b"aad", b"hello").unwrap();
            assert!(open_message(spec, &m, &[9; 12], &[2; 12], b"aad", &sealed).is_err());
            assert!(open_message(spec, &m, &[1; 12], &[9; 12], b"aad", &sealed).is_err());
            assert!(open_message(spec, &m, &[1; 12], &[2; 12], b"aae", &sealed).is_err());
            let mut bad = sealed.clone();
            bad[0] ^= 1;
            assert!(open_message(spec, &m, &[1; 12], &[2; 12], b"aad", &bad).is_err());
            assert!(open_message(spec, &m, &[1; 12], &[2; 12], b"aad", &sealed[..10]).is_err());
        }
    }

    #[test]
    fn different_salts_give_different_ciphertexts() {
        let m = material(KeySpec::AliyunAes256);
        let spec = KeySpec::AliyunAes256;
        let a = seal_message(spec, &m, &[1; 12], &[2; 12], b"", b"same").unwrap();
        let b = seal_message(spec, &m, &[3; 12], &[2; 12], b"", b"same").unwrap();
        assert_ne!(a, b);
    }
}
