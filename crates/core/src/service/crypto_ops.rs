//! Encrypt, GenerateDataKey and Decrypt: the hot path.
//!
//! Encrypt seals the exact bytes of the `Plaintext` string under the key's primary version;
//! Decrypt finds the version from the blob's prefix and returns the same bytes. A key's
//! [`MessageFormat`] picks the blob variant: HSM keys seal format 2, and each of their
//! encryptions is first taken from the version's durable budget (`budget`). Once a key is
//! cached neither touches the store. Every way a blob can fail to open is the one error
//! [`KmsError::InvalidCiphertext`]. ReEncrypt opens a blob (or, from a key pair, a bare
//! asymmetric ciphertext through [`super::asymmetric`]) and seals under its destination.
//! Base64 and JSON are the api crate's concern.

use crate::error::Field;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use std::sync::Arc;

use super::cache::{CachedKey, VersionKey};
use super::{KeyRef, KeyService};
use crate::asymmetric::EncryptAlgorithm;
use crate::ciphertext;
use crate::context::EncryptionContext;
use crate::crypto::{Message, NONCE_LEN, SALT_LEN};
use crate::error::{InvalidReason, KmsError};
use crate::model::KeyState;
use crate::provider::{LoadedKey, MessageFormat, SymmetricKey};
use crate::secret::SecretBytes;

/// Largest plaintext Encrypt accepts, in bytes ("6 KB" in the documentation).
pub const MAX_PLAINTEXT_BYTES: usize = 6144;
/// Largest data key GenerateDataKey makes, in bytes.
pub const MAX_DATA_KEY_BYTES: usize = 1024;

/// The result of Encrypt.
#[derive(Debug)]
pub struct EncryptOutput {
    /// The real key id (even when an alias or ARN was given).
    pub key_id: String,
    /// The version used (the primary).
    pub version_id: String,
    /// The ciphertext blob, before base64.
    pub blob: Vec<u8>,
}

/// The result of ReEncrypt: the new ciphertext, and the key version that opened the old one
/// (for the audit line; Alibaba's reply names only the destination).
#[derive(Debug)]
pub struct ReEncryptOutput {
    /// The real id of the key that opened the source ciphertext.
    pub source_key_id: String,
    /// The version of it that opened the source ciphertext.
    pub source_version_id: String,
    /// The ciphertext under the destination key.
    pub sealed: EncryptOutput,
}

/// The result of GenerateDataKey: a fresh data key, in the clear and sealed. No `Debug`: it
/// holds the data key.
pub struct DataKeyOutput {
    /// The real key id.
    pub key_id: String,
    /// The version that sealed the data key (the primary).
    pub version_id: String,
    /// The blob; Decrypt of it returns [`DataKeyOutput::plaintext_base64`].
    pub blob: Vec<u8>,
    /// Standard base64 of the raw data key bytes, as the API returns it.
    pub plaintext_base64: SecretBytes,
}

/// The result of Decrypt. No `Debug`: it holds the plaintext.
pub struct DecryptOutput {
    /// The key that sealed the blob.
    pub key_id: String,
    /// The version that sealed the blob.
    pub version_id: String,
    /// The plaintext bytes, exactly as given to Encrypt.
    pub plaintext: SecretBytes,
}

impl KeyService {
    /// Seals `plaintext` under the primary version of `key`, bound to `context`.
    pub async fn encrypt(
        &self,
        key: &KeyRef,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<EncryptOutput, KmsError> {
        if plaintext.len() > MAX_PLAINTEXT_BYTES {
            let reason = InvalidReason::TooLong {
                max: MAX_PLAINTEXT_BYTES,
            };
            return Err(KmsError::invalid(Field::Plaintext, reason));
        }
        let key_id = self.resolve(key).await?;
        let cached = self.load_key(&key_id).await?;
        let primary = self.usable(&cached)?;
        let blob = self.seal(primary, plaintext, context).await?;
        Ok(EncryptOutput {
            key_id,
            version_id: primary.version_id.clone(),
            blob,
        })
    }

    /// Makes a random data key of `len` bytes (1..=1024) and seals its base64 text under the
    /// primary version of `key`, so that Decrypt of the blob returns that same text.
    pub async fn generate_data_key(
        &self,
        key: &KeyRef,
        len: usize,
        context: &EncryptionContext,
    ) -> Result<DataKeyOutput, KmsError> {
        if !(1..=MAX_DATA_KEY_BYTES).contains(&len) {
            return Err(KmsError::invalid(
                Field::NumberOfBytes,
                InvalidReason::OutOfRange,
            ));
        }
        let key_id = self.resolve(key).await?;
        let cached = self.load_key(&key_id).await?;
        let primary = self.usable(&cached)?;
        let mut raw = SecretBytes::zeroed(len);
        self.rng.fill(raw.expose_secret_mut());
        let text = SecretBytes::new(B64.encode(raw.expose_secret()).into_bytes());
        let blob = self.seal(primary, text.expose_secret(), context).await?;
        let version_id = primary.version_id.clone();
        Ok(DataKeyOutput {
            key_id,
            version_id,
            blob,
            plaintext_base64: text,
        })
    }

    /// Opens a blob made by [`KeyService::encrypt`] with an equal `context`.
    pub async fn decrypt(
        &self,
        blob: &[u8],
        context: &EncryptionContext,
    ) -> Result<DecryptOutput, KmsError> {
        let parsed = ciphertext::parse(blob)?;
        let version = self.version_of_blob(parsed.version_id).await?;
        let key = self.load_key(&version.key_id).await?;
        self.usable(&key)?;
        let aad = ciphertext::associated_data(parsed.header, &context.canonical_bytes());
        let message = Message {
            salt: parsed.salt,
            nonce: parsed.nonce,
            aad: &aad,
        };
        let key = symmetric(&version.key)?;
        if key.format() != parsed.format {
            return Err(KmsError::InvalidCiphertext);
        }
        let plaintext = key.open(&message, parsed.sealed)?;
        Ok(DecryptOutput {
            key_id: version.key_id.clone(),
            version_id: version.version_id.clone(),
            plaintext,
        })
    }

    /// ReEncrypt: opens `blob` under `source_context` and seals the plaintext under `target`
    /// with `target_context`, without the plaintext leaving the service.
    pub async fn re_encrypt(
        &self,
        blob: &[u8],
        source_context: &EncryptionContext,
        target: &KeyRef,
        target_context: &EncryptionContext,
    ) -> Result<ReEncryptOutput, KmsError> {
        let opened = self.decrypt(blob, source_context).await?;
        let sealed = self
            .seal_under(target, &opened.plaintext, target_context)
            .await?;
        Ok(ReEncryptOutput {
            source_key_id: opened.key_id,
            source_version_id: opened.version_id,
            sealed,
        })
    }

    /// ReEncrypt from a key pair (next-surfaces §3.7): decrypts the bare asymmetric
    /// `ciphertext` with the private key of `source` (key, version, algorithm), exactly as
    /// AsymmetricDecrypt would, and seals the plaintext under `target` with `target_context`.
    /// The destination is checked first (usable, symmetric), so a request that cannot
    /// complete spends no private-key operation.
    pub async fn re_encrypt_from_pair(
        &self,
        source: (&KeyRef, &str, EncryptAlgorithm),
        ciphertext: &[u8],
        target: &KeyRef,
        target_context: &EncryptionContext,
    ) -> Result<ReEncryptOutput, KmsError> {
        let destination = self.destination(target).await?;
        let (key, version_id, algorithm) = source;
        // An algorithm that does not fit the pair is named as ReEncrypt names it.
        let (opened_by, plaintext) = self
            .pair_plaintext(key, version_id, algorithm, ciphertext)
            .await
            .map_err(|e| match e {
                KmsError::InvalidParameter {
                    field: Field::Algorithm,
                    reason,
                } => KmsError::invalid(Field::SourceEncryptionAlgorithm, reason),
                other => other,
            })?;
        let sealed = self
            .seal_into(destination, &plaintext, target_context)
            .await?;
        Ok(ReEncryptOutput {
            source_key_id: opened_by.key_id,
            source_version_id: opened_by.version_id,
            sealed,
        })
    }

    /// Seals `plaintext` under the primary version of `target` (which must be usable), as
    /// ReEncrypt's destination.
    async fn seal_under(
        &self,
        target: &KeyRef,
        plaintext: &SecretBytes,
        context: &EncryptionContext,
    ) -> Result<EncryptOutput, KmsError> {
        let destination = self.destination(target).await?;
        self.seal_into(destination, plaintext, context).await
    }

    /// ReEncrypt's destination: the key `target` names, which must be usable and symmetric.
    async fn destination(&self, target: &KeyRef) -> Result<(String, Arc<CachedKey>), KmsError> {
        let key_id = self.resolve(target).await?;
        let cached = self.load_key(&key_id).await?;
        symmetric(&self.usable(&cached)?.key)?;
        Ok((key_id, cached))
    }

    /// Seals `plaintext` under the primary version of a checked destination.
    async fn seal_into(
        &self,
        destination: (String, Arc<CachedKey>),
        plaintext: &SecretBytes,
        context: &EncryptionContext,
    ) -> Result<EncryptOutput, KmsError> {
        let (key_id, cached) = destination;
        let primary = self.usable(&cached)?;
        let blob = self
            .seal(primary, plaintext.expose_secret(), context)
            .await?;
        Ok(EncryptOutput {
            key_id,
            version_id: primary.version_id.clone(),
            blob,
        })
    }

    /// The version a blob names: `KeyNotFound` if its key was destroyed, the blob error if it
    /// never existed here.
    async fn version_of_blob(
        &self,
        version_id: &str,
    ) -> Result<std::sync::Arc<super::cache::VersionKey>, KmsError> {
        if let Some(v) = self.load_version(version_id).await? {
            return Ok(v);
        }
        match self.store.is_destroyed_version(version_id).await? {
            true => Err(KmsError::KeyNotFound),
            false => Err(KmsError::InvalidCiphertext),
        }
    }

    async fn seal(
        &self,
        version: &super::cache::VersionKey,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Vec<u8>, KmsError> {
        let key = symmetric(&version.key)?;
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce);
        let mut blob = match key.format() {
            MessageFormat::Derived => {
                self.rng.fill(&mut salt);
                ciphertext::header(&version.version_id, &salt, &nonce, plaintext.len())
            }
            MessageFormat::Direct => {
                self.budgets
                    .take(self.store.as_ref(), &version.version_id)
                    .await?;
                ciphertext::hsm_header(&version.version_id, &nonce, plaintext.len())
            }
        };
        let aad = ciphertext::associated_data(&blob, &context.canonical_bytes());
        let message = Message {
            salt: &salt,
            nonce: &nonce,
            aad: &aad,
        };
        key.seal(&message, plaintext, &mut blob)?;
        Ok(blob)
    }
}

/// The symmetric key of a version; a key of another kind cannot seal customer data.
fn symmetric(key: &LoadedKey) -> Result<&dyn SymmetricKey, KmsError> {
    key.symmetric().ok_or(KmsError::UnsupportedOperation)
}

impl KeyService {
    /// The primary version of `key` if the key may encrypt and decrypt now (§4.4): Enabled,
    /// with material that has not expired (an expired EXTERNAL key is PendingImport, §4.6).
    fn usable<'k>(&self, key: &'k CachedKey) -> Result<&'k Arc<VersionKey>, KmsError> {
        match key.state_at(self.clock.now()) {
            KeyState::Enabled => key
                .primary
                .as_ref()
                .ok_or(KmsError::KeyStateRejected(KeyState::PendingImport)),
            state => Err(KmsError::KeyStateRejected(state)),
        }
    }
}
