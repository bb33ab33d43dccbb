//! The byte layout of a CiphertextBlob (before base64), version 1.
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
//! The associated data is the 61-byte header followed by the canonical EncryptionContext, so
//! the version id, the format byte, the salt and the nonce are all authenticated. Parsing
//! checks only the shape; whether the blob is genuine is decided by the AEAD. The full
//! description is `docs/ciphertext-format.md`. This module does no cryptography itself.

use crate::crypto::{NONCE_LEN, SALT_LEN, TAG_LEN};
use crate::error::KmsError;

/// Length of the key version id prefix.
pub const VERSION_ID_LEN: usize = 36;
/// The format version this code writes.
pub const FORMAT_V1: u8 = 0x01;
/// Length of the authenticated header.
pub const HEADER_LEN: usize = VERSION_ID_LEN + 1 + SALT_LEN + NONCE_LEN;
/// Shortest possible blob (empty plaintext).
pub const MIN_LEN: usize = HEADER_LEN + TAG_LEN;

/// A parsed blob, borrowing from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blob<'a> {
    /// The key version id.
    pub version_id: &'a str,
    /// The per-message key salt.
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
    if bytes.len() < MIN_LEN || bytes[VERSION_ID_LEN] != FORMAT_V1 {
        return Err(KmsError::InvalidCiphertext);
    }
    let version_id = std::str::from_utf8(&bytes[..VERSION_ID_LEN])
        .ok()
        .filter(|s| is_uuid_text(s))
        .ok_or(KmsError::InvalidCiphertext)?;
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
        bad_format[VERSION_ID_LEN] = 2;
        assert!(parse(&bad_format).is_err());
        let mut bad_id = blob.clone();
        bad_id[8] = b'x';
        assert!(parse(&bad_id).is_err());
        assert!(parse(&[]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse(&bytes);
        }
    }
}
