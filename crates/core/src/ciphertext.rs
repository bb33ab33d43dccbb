//! The byte layout of a CiphertextBlob (before base64): version 1, and version 2, the HSM
//! variant.
//!
//! Version 1 (software keys):
//!
//! ```text
//! offset  len  field
//! 0       36   key version id, ASCII lowercase UUID (as Alibaba's blobs begin)
//! 36      1    format version, 0x01
//! 37      12   salt for the per-message key (HKDF-SHA256)
//! 49      12   GCM nonce
//! 61      n    ciphertext (n = plaintext length)
//! 61+n    16   GCM tag
//! ```
//!
//! Version 2 (HSM keys, AES-256-GCM directly under a key that never leaves its token):
//!
//! ```text
//! offset  len  field
//! 0       36   key version id
//! 36      1    format version, 0x02
//! 37      12   GCM nonce (IV)
//! 49      n    ciphertext
//! 49+n    16   GCM tag
//! ```
//!
//! The associated data is the header (61 or 49 bytes) followed by the canonical
//! EncryptionContext, so the version id, the format byte, the salt and the nonce are all
//! authenticated. Parsing
//! checks only the shape; whether the blob is genuine is decided by the AEAD. The full
//! description is `docs/ciphertext-format.md`. This module does no cryptography itself.

use crate::crypto::{NONCE_LEN, SALT_LEN, TAG_LEN};
use crate::error::KmsError;
use crate::provider::MessageFormat;

/// Length of the key version id prefix.
pub const VERSION_ID_LEN: usize = 36;
/// The format version this code writes.
pub const FORMAT_V1: u8 = 0x01;
/// The format version of the HSM variant (no salt; GCM directly under the token key).
pub const FORMAT_HSM: u8 = 0x02;
/// Length of the authenticated header of version 1.
pub const HEADER_LEN: usize = VERSION_ID_LEN + 1 + SALT_LEN + NONCE_LEN;
/// Length of the authenticated header of version 2 (HSM).
pub const HSM_HEADER_LEN: usize = VERSION_ID_LEN + 1 + NONCE_LEN;
/// Shortest possible blob of any version (an HSM blob of an empty plaintext).
pub const MIN_LEN: usize = HSM_HEADER_LEN + TAG_LEN;
/// Most encryptions one key version of the HSM variant may serve: 2^32, NIST SP 800-38D
/// §8.3's cap on invocations with random 96-bit IVs under one key; the chance that any two
/// of them share an IV is then below 2^-32 (`docs/ciphertext-format.md`).
pub const DIRECT_MESSAGE_LIMIT: u64 = 1 << 32;
/// What an HSM blob holds in place of a salt: none (keys of that format ignore it).
const NO_SALT: [u8; SALT_LEN] = [0; SALT_LEN];

/// A parsed blob, borrowing from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blob<'a> {
    /// The key version id.
    pub version_id: &'a str,
    /// Which variant of the format the blob is.
    pub format: MessageFormat,
    /// The per-message key salt (all zero for the HSM variant, which has none).
    pub salt: &'a [u8; SALT_LEN],
    /// The GCM nonce.
    pub nonce: &'a [u8; NONCE_LEN],
    /// The header bytes, authenticated as the start of the associated data.
    pub header: &'a [u8],
    /// Ciphertext followed by the tag.
    pub sealed: &'a [u8],
}

/// Splits a blob into its fields. Any malformation is [`KmsError::InvalidCiphertext`].
pub fn parse(bytes: &[u8]) -> Result<Blob<'_>, KmsError> {
    if bytes.len() < MIN_LEN {
        return Err(KmsError::InvalidCiphertext);
    }
    let version_id = std::str::from_utf8(&bytes[..VERSION_ID_LEN])
        .ok()
        .filter(|s| is_uuid_text(s))
        .ok_or(KmsError::InvalidCiphertext)?;
    match bytes[VERSION_ID_LEN] {
        FORMAT_V1 => parse_v1(bytes, version_id),
        FORMAT_HSM => parse_hsm(bytes, version_id),
        _ => Err(KmsError::InvalidCiphertext),
    }
}

fn parse_hsm<'a>(bytes: &'a [u8], version_id: &'a str) -> Result<Blob<'a>, KmsError> {
    let nonce = bytes[VERSION_ID_LEN + 1..HSM_HEADER_LEN]
        .try_into()
        .map_err(|_| KmsError::InvalidCiphertext)?;
    Ok(Blob {
        version_id,
        format: MessageFormat::Direct,
        salt: &NO_SALT,
        nonce,
        header: &bytes[..HSM_HEADER_LEN],
        sealed: &bytes[HSM_HEADER_LEN..],
    })
}

fn parse_v1<'a>(bytes: &'a [u8], version_id: &'a str) -> Result<Blob<'a>, KmsError> {
    if bytes.len() < HEADER_LEN + TAG_LEN {
        return Err(KmsError::InvalidCiphertext);
    }
    let salt_at = VERSION_ID_LEN + 1;
    let nonce_at = salt_at + SALT_LEN;
    let salt = bytes[salt_at..nonce_at]
        .try_into()
        .map_err(|_| KmsError::InvalidCiphertext)?;
    let nonce = bytes[nonce_at..HEADER_LEN]
        .try_into()
        .map_err(|_| KmsError::InvalidCiphertext)?;
    Ok(Blob {
        version_id,
        format: MessageFormat::Derived,
        salt,
        nonce,
        header: &bytes[..HEADER_LEN],
        sealed: &bytes[HEADER_LEN..],
    })
}

/// Writes the header for a new blob into a buffer sized for `plaintext_len`.
pub fn header(
    version_id: &str,
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
    plaintext_len: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext_len + TAG_LEN);
    out.extend_from_slice(version_id.as_bytes());
    out.push(FORMAT_V1);
    out.extend_from_slice(salt);
    out.extend_from_slice(nonce);
    out
}

/// Writes the header of a new HSM-variant blob (format 2) into a buffer sized for
/// `plaintext_len`.
pub fn hsm_header(version_id: &str, nonce: &[u8; NONCE_LEN], plaintext_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(HSM_HEADER_LEN + plaintext_len + TAG_LEN);
    out.extend_from_slice(version_id.as_bytes());
    out.push(FORMAT_HSM);
    out.extend_from_slice(nonce);
    out
}

/// The associated data: header followed by the canonical context.
pub fn associated_data(header: &[u8], context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + context.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(context);
    aad
}

/// Whether `s` looks like a hyphenated UUID (36 characters, hex digits and four hyphens).
pub fn is_uuid_text(s: &str) -> bool {
    s.len() == VERSION_ID_LEN
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VID: &str = "86a9efd9-3d16-4894-bd4f-1fc43f3f2abf";

    #[test]
    fn header_then_parse() {
        let mut blob = header(VID, &[7; 12], &[8; 12], 3);
        blob.extend_from_slice(&[0u8; 3 + TAG_LEN]);
        let parsed = parse(&blob).unwrap();
        assert_eq!(parsed.version_id, VID);
        assert_eq!(parsed.salt, &[7; 12]);
        assert_eq!(parsed.nonce, &[8; 12]);
        assert_eq!(parsed.header.len(), HEADER_LEN);
        assert_eq!(parsed.sealed.len(), 3 + TAG_LEN);
    }

    #[test]
    fn malformed_blobs_are_refused() {
        let mut blob = header(VID, &[7; 12], &[8; 12], 0);
        blob.extend_from_slice(&[0u8; TAG_LEN]);
        assert!(parse(&blob).is_ok());
        assert!(parse(&blob[..MIN_LEN - 1]).is_err());
        let mut bad_format = blob.clone();
        bad_format[VERSION_ID_LEN] = 3;
        assert!(parse(&bad_format).is_err());
        let mut bad_id = blob.clone();
        bad_id[8] = b'x';
        assert!(parse(&bad_id).is_err());
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn hsm_header_then_parse() {
        let mut blob = hsm_header(VID, &[8; 12], 3);
        assert_eq!(blob.len(), HSM_HEADER_LEN);
        blob.extend_from_slice(&[0u8; 3 + TAG_LEN]);
        let parsed = parse(&blob).unwrap();
        assert_eq!(parsed.format, MessageFormat::Direct);
        assert_eq!(parsed.version_id, VID);
        assert_eq!(parsed.nonce, &[8; 12]);
        assert_eq!(parsed.header, &blob[..HSM_HEADER_LEN]);
        assert_eq!(parsed.sealed.len(), 3 + TAG_LEN);
        assert!(parse(&blob[..MIN_LEN - 1]).is_err());
        let v1_shape = header(VID, &[7; 12], &[8; 12], 0);
        let mut short_v1 = v1_shape[..HSM_HEADER_LEN].to_vec();
        short_v1.extend_from_slice(&[0u8; TAG_LEN]);
        assert!(
            parse(&short_v1).is_err(),
            "a version 1 blob shorter than its header"
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse(&bytes);
        }
    }
}
