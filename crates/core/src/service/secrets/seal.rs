//! How a secret value is kept: envelope encryption under the secret's CMK, through the key
//! service's own symmetric Encrypt and Decrypt.
//!
//! A fresh 32-byte data key seals the value with AES-256-GCM (random 96-bit nonce; the
//! associated data binds the secret's name and version id); the data key itself is sealed by
//! `KeyService::encrypt` under the CMK with the encryption context
//! `{"SecretName": name, "VersionId": id}`. The stored bytes are
//! `0x01 ‖ u16 blob length (big endian) ‖ CMK blob ‖ nonce ‖ sealed value ‖ tag`. Because the
//! CMK blob names its key version, a CMK rotation changes nothing for stored versions, and a
//! root-key rotation needs nothing either: no secret byte is wrapped under the root key. A
//! disabled CMK refuses the Decrypt (`KeyStateRejected`), a destroyed one is `KeyNotFound`.
//! Plaintexts (the value, the data key) live only in [`SecretBytes`], which wipes on drop.

use std::collections::BTreeMap;

use crate::context::EncryptionContext;
use crate::crypto::{NONCE_LEN, aes_open, aes_seal};
use crate::error::KmsError;
use crate::secret::SecretBytes;
use crate::service::{KeyRef, KeyService};

/// The format byte of the stored value.
const FORMAT: u8 = 1;
/// The data key's length.
const DATA_KEY_LEN: usize = 32;

/// The context the data key is sealed under (and the CMK check of a request judges).
pub fn context(name: &str, version_id: &str) -> Result<EncryptionContext, KmsError> {
    let map = BTreeMap::from([
        ("SecretName".to_owned(), name.to_owned()),
        ("VersionId".to_owned(), version_id.to_owned()),
    ]);
    EncryptionContext::from_map(map)
}

/// The associated data of the value's AES-GCM.
fn aad(name: &str, version_id: &str) -> Vec<u8> {
    format!("openkms/secret/v1\0{name}\0{version_id}").into_bytes()
}

impl KeyService {
    /// Seals `value` of version `version_id` of secret `name` under the CMK `key_id`.
    pub(super) async fn seal_secret_value(
        &self,
        key_id: &str,
        name: &str,
        version_id: &str,
        value: &SecretBytes,
    ) -> Result<Vec<u8>, KmsError> {
        let mut data_key = SecretBytes::zeroed(DATA_KEY_LEN);
        self.rng.fill(data_key.expose_secret_mut());
        let key = KeyRef::Id(key_id.to_owned());
        let sealed_key = self
            .encrypt(&key, data_key.expose_secret(), &context(name, version_id)?)
            .await?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce);
        let body = aes_seal(
            &data_key,
            &nonce,
            &aad(name, version_id),
            value.expose_secret(),
        )?;
        let blob_len = u16::try_from(sealed_key.blob.len()).map_err(|_| KmsError::Corrupt)?;
        let mut out = Vec::with_capacity(3 + sealed_key.blob.len() + NONCE_LEN + body.len());
        out.push(FORMAT);
        out.extend_from_slice(&blob_len.to_be_bytes());
        out.extend_from_slice(&sealed_key.blob);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens a stored value; the CMK must be usable (Enabled) now.
    pub(super) async fn open_secret_value(
        &self,
        name: &str,
        version_id: &str,
        stored: &[u8],
    ) -> Result<SecretBytes, KmsError> {
        let (blob, nonce, body) = split(stored).ok_or(KmsError::Corrupt)?;
        let data_key = self.decrypt(blob, &context(name, version_id)?).await?;
        aes_open(&data_key.plaintext, &nonce, &aad(name, version_id), body)
            .map_err(|_| KmsError::Corrupt)
    }
}

/// The CMK blob, the nonce and the sealed value of a stored value.
fn split(stored: &[u8]) -> Option<(&[u8], [u8; NONCE_LEN], &[u8])> {
    let (&format, rest) = stored.split_first()?;
    if format != FORMAT || rest.len() < 2 {
        return None;
    }
    let (len, rest) = rest.split_at(2);
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    let blob = rest.get(..len)?;
    let rest = &rest[len..];
    let nonce: [u8; NONCE_LEN] = rest.get(..NONCE_LEN)?.try_into().ok()?;
    Some((blob, nonce, &rest[NONCE_LEN..]))
}
