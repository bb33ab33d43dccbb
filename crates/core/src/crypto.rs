//! The AEAD constructions: per-message keys for customer data, plain AES-256-GCM for wrapping.
//!
//! Customer data is sealed under a key derived per message from the version's material and a
//! random 96-bit salt (HKDF-SHA256), with a random 96-bit GCM nonce. A (derived key, nonce)
//! pair repeats only if both 192 random bits repeat, so one key version can serve about 2^80
//! encryptions before the chance of any repeat reaches 2^-32 (`docs/ciphertext-format.md`).
//! AES-256 keys use AES-256-GCM (aws-lc-rs); SM4 keys use SM4-GCM (RustCrypto).
//!
//! This module only transforms bytes: the software key provider ([`crate::provider`]) seals
//! and opens with it, root-key wrapping uses its plain AES-256-GCM. The byte layout of a
//! ciphertext lives in [`crate::ciphertext`], and which key to use is the service's decision.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::hkdf;
use zeroize::Zeroizing;

use crate::error::KmsError;
use crate::model::KeySpec;
use crate::secret::SecretBytes;

/// Length of the GCM authentication tag.
pub const TAG_LEN: usize = 16;
/// Length of the GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Length of the per-message key-derivation salt.
pub const SALT_LEN: usize = 12;
/// Longest material of any symmetric spec (AES-256).
const MAX_KEY_LEN: usize = 32;

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

/// A per-message key on the stack, wiped on drop.
struct MessageKey {
    bytes: Zeroizing<[u8; MAX_KEY_LEN]>,
    len: usize,
}

impl MessageKey {
    fn expose_secret(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Derives the per-message key for `spec` from the version material and the salt.
fn message_key(spec: KeySpec, material: &[u8], salt: &[u8; SALT_LEN]) -> MessageKey {
    let len = spec.material_len().min(MAX_KEY_LEN);
    let mut key = MessageKey {
        bytes: Zeroizing::new([0u8; MAX_KEY_LEN]),
        len,
    };
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(material);
    // HKDF-SHA256 can expand up to 8160 bytes; 32 is always within range.
    if let Ok(okm) = prk.expand(&[MESSAGE_KEY_INFO], OutLen(len)) {
        let _ = okm.fill(&mut key.bytes[..len]);
    }
    key
}

/// A 32-byte key derived from `material` with HKDF-SHA256 under `salt` and `info` (the
/// root key's derived keys: listing cursors).
pub(crate) fn derive_key(material: &[u8], salt: &[u8], info: &[u8]) -> SecretBytes {
    let mut key = SecretBytes::zeroed(MAX_KEY_LEN);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(material);
    // HKDF-SHA256 can expand up to 8160 bytes; 32 is always within range.
    if let Ok(okm) = prk.expand(&[info], OutLen(MAX_KEY_LEN)) {
        let _ = okm.fill(key.expose_secret_mut());
    }
    key
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
    let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
    let message = Message { salt, nonce, aad };
    seal_message_into(
        spec,
        material.expose_secret(),
        &message,
        plaintext,
        &mut out,
    )?;
    Ok(out)
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
    let message = Message { salt, nonce, aad };
    open_message_with(spec, material.expose_secret(), &message, sealed)
}

/// The per-message inputs of a seal or open: the key-derivation salt, the GCM nonce and the
/// associated data, all of which the ciphertext format authenticates.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The salt of the per-message key.
    pub salt: &'a [u8; SALT_LEN],
    /// The GCM nonce.
    pub nonce: &'a [u8; NONCE_LEN],
    /// The associated data (the blob header and the canonical encryption context).
    pub aad: &'a [u8],
}

/// Seals `plaintext` under a per-message key derived from `material`, appending ciphertext
/// and tag to `out`; on failure `out` is left as it was.
pub fn seal_message_into(
    spec: KeySpec,
    material: &[u8],
    message: &Message<'_>,
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), KmsError> {
    let key = message_key(spec, material, message.salt);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let in_out = &mut out[start..];
    let tag = match spec {
        KeySpec::AliyunAes256 => aes_seal_detached(key.expose_secret(), message, in_out),
        KeySpec::AliyunSm4 => sm4_seal_detached(key.expose_secret(), message, in_out),
        // Key pairs never reach the symmetric AEAD (their handle is not a SymmetricKey).
        _ => Err(KmsError::Corrupt),
    };
    match tag {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(())
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// Opens ciphertext ‖ tag sealed by [`seal_message_into`] under the same material. Every
/// failure is [`KmsError::InvalidCiphertext`].
pub fn open_message_with(
    spec: KeySpec,
    material: &[u8],
    message: &Message<'_>,
    sealed: &[u8],
) -> Result<SecretBytes, KmsError> {
    let key = message_key(spec, material, message.salt);
    let len = sealed
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(KmsError::InvalidCiphertext)?;
    let mut buf = SecretBytes::new(sealed.to_vec());
    let in_out = buf.expose_secret_mut();
    let opened = match spec {
        KeySpec::AliyunAes256 => aes_open_in_place(key.expose_secret(), message, in_out),
        KeySpec::AliyunSm4 => sm4_open_in_place(key.expose_secret(), message, in_out),
        _ => Err(KmsError::Corrupt),
    };
    opened.map_err(|_| KmsError::InvalidCiphertext)?;
    buf.truncate(len);
    Ok(buf)
}

fn aes_seal_detached(
    key: &[u8],
    message: &Message<'_>,
    in_out: &mut [u8],
) -> Result<[u8; TAG_LEN], KmsError> {
    let key = aes_key(key)?;
    let nonce = Nonce::assume_unique_for_key(*message.nonce);
    let tag = key
        .seal_in_place_separate_tag(nonce, Aad::from(message.aad), in_out)
        .map_err(|_| KmsError::Corrupt)?;
    tag.as_ref().try_into().map_err(|_| KmsError::Corrupt)
}

/// Opens ciphertext ‖ tag in place; the plaintext is then the front of `in_out`.
fn aes_open_in_place(key: &[u8], message: &Message<'_>, in_out: &mut [u8]) -> Result<(), KmsError> {
    let key = aes_key(key)?;
    let nonce = Nonce::assume_unique_for_key(*message.nonce);
    key.open_in_place(nonce, Aad::from(message.aad), in_out)
        .map(|_| ())
        .map_err(|_| KmsError::InvalidCiphertext)
}

fn sm4_seal_detached(
    key: &[u8],
    message: &Message<'_>,
    in_out: &mut [u8],
) -> Result<[u8; TAG_LEN], KmsError> {
    let cipher = Sm4Gcm::new_from_slice(key).map_err(|_| KmsError::Corrupt)?;
    let tag = cipher
        .encrypt_inout_detached(&(*message.nonce).into(), message.aad, in_out.into())
        .map_err(|_| KmsError::Corrupt)?;
    Ok(tag.into())
}

/// Opens ciphertext ‖ tag in place; the plaintext is then the front of `in_out`.
fn sm4_open_in_place(key: &[u8], message: &Message<'_>, in_out: &mut [u8]) -> Result<(), KmsError> {
    let cipher = Sm4Gcm::new_from_slice(key).map_err(|_| KmsError::InvalidCiphertext)?;
    let len = in_out
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(KmsError::InvalidCiphertext)?;
    let (ct, tag) = in_out.split_at_mut(len);
    let tag: [u8; TAG_LEN] = (&*tag)
        .try_into()
        .map_err(|_| KmsError::InvalidCiphertext)?;
    cipher
        .decrypt_inout_detached(
            &(*message.nonce).into(),
            message.aad,
            ct.into(),
            &tag.into(),
        )
        .map_err(|_| KmsError::InvalidCiphertext)
}

/// AES-256-GCM seal with an explicit nonce; output is ciphertext ‖ tag.
pub fn aes_seal(
    key: &SecretBytes,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let key = aes_key(key.expose_secret())?;
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
    let key = aes_key(key.expose_secret()).map_err(|_| KmsError::InvalidCiphertext)?;
    let mut buf = SecretBytes::new(sealed.to_vec());
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            buf.expose_secret_mut(),
        )
        .map_err(|_| KmsError::InvalidCiphertext)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

fn aes_key(key: &[u8]) -> Result<LessSafeKey, KmsError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| KmsError::Corrupt)
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

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The GCM specification's test case 16 (AES-256, 60-byte plaintext, 20-byte AAD).
    #[test]
    fn aes_256_gcm_known_answer() {
        let key = SecretBytes::new(unhex(
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        ));
        let nonce: [u8; 12] = unhex("cafebabefacedbaddecaf888").try_into().unwrap();
        let aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let pt = unhex(concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ));
        let expected = unhex(concat!(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa",
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b"
        ));
        assert_eq!(aes_seal(&key, &nonce, &aad, &pt).unwrap(), expected);
        let opened = aes_open(&key, &nonce, &aad, &expected).unwrap();
        assert_eq!(opened.expose_secret(), pt.as_slice());
        let message = Message {
            salt: &[0; 12],
            nonce: &nonce,
            aad: &aad,
        };
        let mut buf = expected.clone();
        aes_open_in_place(key.expose_secret(), &message, &mut buf).unwrap();
        assert_eq!(&buf[..pt.len()], pt.as_slice());
    }

    /// RFC 8998 appendix A.1: SM4-GCM.
    #[test]
    fn sm4_gcm_known_answer() {
        let key = unhex("0123456789abcdeffedcba9876543210");
        let nonce: [u8; 12] = unhex("00001234567800000000abcd").try_into().unwrap();
        let aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let pt = unhex(concat!(
            "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd",
            "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
        ));
        let ct = unhex(concat!(
            "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735",
            "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
        ));
        let tag = unhex("83de3541e4c2b58177e065a9bf7b62ec");
        let message = Message {
            salt: &[0; 12],
            nonce: &nonce,
            aad: &aad,
        };
        let mut buf = pt.clone();
        let got = sm4_seal_detached(&key, &message, &mut buf).unwrap();
        assert_eq!(
            (buf.as_slice(), got.as_slice()),
            (ct.as_slice(), tag.as_slice())
        );
        let mut sealed = [ct, tag].concat();
        sm4_open_in_place(&key, &message, &mut sealed).unwrap();
        assert_eq!(&sealed[..pt.len()], pt.as_slice());
    }
}
