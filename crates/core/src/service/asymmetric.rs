//! GetPublicKey, AsymmetricSign, AsymmetricVerify, AsymmetricEncrypt and AsymmetricDecrypt:
//! the use cases of key pairs (§3 of the next-surfaces contract).
//!
//! Every call names a key and one of its versions (key pairs have no primary version for
//! callers). The checks run in one order: the key exists, it is a key pair, the version is
//! the key's, the key is Enabled, then the usage and the algorithm fit, and only then is the
//! version's private key unwrapped and loaded. Signing and decrypting go through the
//! provider's [`crate::provider::PrivateKey`] handle (cached like symmetric keys) on the
//! bounded blocking lane ([`super::heavy`]), except signatures the handle says are cheap
//! ([`crate::provider::PrivateKey::signs_inline`]: in-process P-256), which run in place;
//! verifying and encrypting need only the public key
//! ([`crate::asymmetric`]). Base64, PEM armour on the wire and JSON are the api crate's.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::cache::VersionKey;
use super::{KeyRef, KeyService};
use crate::asymmetric::{self, DIGEST_LEN, EncryptAlgorithm, MAX_CIPHERTEXT, SignAlgorithm};
use crate::error::{Field, InvalidReason, KmsError};
use crate::model::{KeyRecord, KeyState, KeyUsage};
use crate::provider::PrivateKey;
use crate::secret::SecretBytes;

/// What names a key pair version: the ids GetPublicKey and friends return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairVersion {
    /// The real key id (even when an alias or ARN was given).
    pub key_id: String,
    /// The version used.
    pub version_id: String,
}

/// The result of GetPublicKey.
#[derive(Debug)]
pub struct PublicKeyOutput {
    /// Key and version.
    pub version: PairVersion,
    /// PEM SubjectPublicKeyInfo, 64-character lines, trailing newline (§3.3).
    pub pem: String,
}

/// The result of AsymmetricSign and AsymmetricEncrypt: bytes for the caller.
#[derive(Debug)]
pub struct PairBytesOutput {
    /// Key and version.
    pub version: PairVersion,
    /// The signature or the ciphertext, before base64.
    pub bytes: Vec<u8>,
}

/// The result of AsymmetricVerify.
#[derive(Debug)]
pub struct VerifyOutput {
    /// Key and version.
    pub version: PairVersion,
    /// Whether the signature is valid.
    pub valid: bool,
}

/// The result of AsymmetricDecrypt. No `Debug`: it holds the plaintext.
pub struct PairDecryptOutput {
    /// Key and version.
    pub version: PairVersion,
    /// Standard base64 of the plaintext bytes, as the API returns it, in a wiping buffer.
    pub plaintext_base64: SecretBytes,
}

/// What an asymmetric use case needs from a version: the checked record and its handle.
struct Pair {
    record: KeyRecord,
    version: Arc<VersionKey>,
}

impl Pair {
    fn key(&self) -> Result<&dyn PrivateKey, KmsError> {
        self.version.key.private().ok_or(KmsError::Corrupt)
    }

    fn names(&self) -> PairVersion {
        PairVersion {
            key_id: self.record.key_id.clone(),
            version_id: self.version.version_id.clone(),
        }
    }
}

impl KeyService {
    /// GetPublicKey: the PEM of a key pair version.
    pub async fn get_public_key(
        &self,
        key: &KeyRef,
        version_id: &str,
    ) -> Result<PublicKeyOutput, KmsError> {
        let pair = self
            .pair(key, version_id, KmsError::RejectedUnsupported, |_| Ok(()))
            .await?;
        let pem = asymmetric::public_key_pem(pair.key()?.public_key_der());
        Ok(PublicKeyOutput {
            version: pair.names(),
            pem,
        })
    }

    /// AsymmetricSign: signs the caller's 32-byte digest as given.
    pub async fn asymmetric_sign(
        &self,
        key: &KeyRef,
        version_id: &str,
        algorithm: SignAlgorithm,
        digest: &[u8],
    ) -> Result<PairBytesOutput, KmsError> {
        let pair = self.signing_pair(key, version_id, algorithm).await?;
        let digest = asymmetric::digest_of(digest)?;
        let bytes = if pair.key()?.signs_inline() {
            pair.key()?.sign(algorithm, &digest)?
        } else {
            let version = pair.version.clone();
            self.heavy
                .run(move || private(&version)?.sign(algorithm, &digest))
                .await??
        };
        Ok(PairBytesOutput {
            version: pair.names(),
            bytes,
        })
    }

    /// AsymmetricVerify: whether `signature` is valid over `digest`. A signature that does
    /// not verify (or does not parse) is `valid: false`, not an error.
    pub async fn asymmetric_verify(
        &self,
        key: &KeyRef,
        version_id: &str,
        algorithm: SignAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<VerifyOutput, KmsError> {
        let pair = self.signing_pair(key, version_id, algorithm).await?;
        let digest: [u8; DIGEST_LEN] = asymmetric::digest_of(digest)?;
        let public = pair.key()?.public_key_der();
        let valid = asymmetric::verify(public, algorithm, pair.record.spec, &digest, signature);
        Ok(VerifyOutput {
            version: pair.names(),
            valid,
        })
    }

    /// AsymmetricEncrypt: the bare standard ciphertext of `plaintext` under the public key.
    pub async fn asymmetric_encrypt(
        &self,
        key: &KeyRef,
        version_id: &str,
        algorithm: EncryptAlgorithm,
        plaintext: &[u8],
    ) -> Result<PairBytesOutput, KmsError> {
        let pair = self.encrypting_pair(key, version_id, algorithm).await?;
        let public = pair.key()?.public_key_der();
        let spec = pair.record.spec;
        let bytes = asymmetric::encrypt(public, algorithm, spec, plaintext, self.rng.as_ref())?;
        Ok(PairBytesOutput {
            version: pair.names(),
            bytes,
        })
    }

    /// AsymmetricDecrypt: the plaintext of a bare standard ciphertext. Every failure to
    /// decrypt is [`KmsError::InvalidCiphertext`].
    pub async fn asymmetric_decrypt(
        &self,
        key: &KeyRef,
        version_id: &str,
        algorithm: EncryptAlgorithm,
        ciphertext: &[u8],
    ) -> Result<PairDecryptOutput, KmsError> {
        let (version, plaintext) = self
            .pair_plaintext(key, version_id, algorithm, ciphertext)
            .await?;
        let text = B64.encode(plaintext.expose_secret()).into_bytes();
        Ok(PairDecryptOutput {
            version,
            plaintext_base64: SecretBytes::new(text),
        })
    }

    /// The plaintext of a bare standard ciphertext under a key pair version, and the names
    /// of that version: AsymmetricDecrypt, and ReEncrypt from a key pair. Every failure to
    /// decrypt is [`KmsError::InvalidCiphertext`].
    pub(super) async fn pair_plaintext(
        &self,
        key: &KeyRef,
        version_id: &str,
        algorithm: EncryptAlgorithm,
        ciphertext: &[u8],
    ) -> Result<(PairVersion, SecretBytes), KmsError> {
        if ciphertext.is_empty() || ciphertext.len() > MAX_CIPHERTEXT {
            return Err(KmsError::InvalidCiphertext);
        }
        let pair = self.encrypting_pair(key, version_id, algorithm).await?;
        let (version, ciphertext) = (pair.version.clone(), ciphertext.to_vec());
        let plaintext = self
            .heavy
            .run(move || private(&version)?.decrypt(algorithm, &ciphertext))
            .await??;
        Ok((pair.names(), plaintext))
    }

    /// A usable signing pair whose spec signs with `algorithm`; anything else is
    /// `InvalidParameter` on `Algorithm` (§3.4: the only documented code of Sign/Verify).
    async fn signing_pair(
        &self,
        key: &KeyRef,
        version_id: &str,
        algorithm: SignAlgorithm,
    ) -> Result<Pair, KmsError> {
        let bad_algorithm = || KmsError::invalid(Field::Algorithm, InvalidReason::NotAccepted);
        let fits = |record: &KeyRecord| match record.usage == KeyUsage::SignVerify
            && algorithm.fits(record.spec)
        {
            true => Ok(()),
            false => Err(bad_algorithm()),
        };
        self.pair(key, version_id, bad_algorithm(), fits).await
    }

    /// A usable encryption pair: a signing key is `Rejected.UnsupportedOperation` (§3.6), an
    /// algorithm that does not fit the spec is `InvalidParameter` on `Algorithm`.
    async fn encrypting_pair(
        &self,
        key: &KeyRef,
        version_id: &str,
        algorithm: EncryptAlgorithm,
    ) -> Result<Pair, KmsError> {
        let fits = |record: &KeyRecord| {
            if record.usage != KeyUsage::EncryptDecrypt {
                return Err(KmsError::RejectedUnsupported);
            }
            match algorithm.fits(record.spec) {
                true => Ok(()),
                false => Err(KmsError::invalid(
                    Field::Algorithm,
                    InvalidReason::NotAccepted,
                )),
            }
        };
        self.pair(key, version_id, KmsError::RejectedUnsupported, fits)
            .await
    }

    /// The key (which must be a key pair, else `not_pair`) and its version `version_id`; the
    /// key must be Enabled (§3.8) and pass `fits` (usage and algorithm) BEFORE the version's
    /// private key is unwrapped and loaded (review finding 5: a refused call loads nothing).
    async fn pair<F>(
        &self,
        key: &KeyRef,
        version_id: &str,
        not_pair: KmsError,
        fits: F,
    ) -> Result<Pair, KmsError>
    where
        F: Fn(&KeyRecord) -> Result<(), KmsError>,
    {
        let key_id = self.resolve(key).await?;
        let generation = self.cache.key_generation();
        let record = match self.cache.key(&key_id) {
            Some(cached) => cached.record.clone(),
            None => self
                .store
                .get_key(&key_id)
                .await?
                .ok_or(KmsError::KeyNotFound)?,
        };
        if !record.spec.is_asymmetric() {
            return Err(not_pair);
        }
        let cached = self.cache.version(version_id);
        let stored = match &cached {
            Some(v) if v.key_id == record.key_id => None,
            Some(_) => return Err(KmsError::KeyVersionNotFound),
            None => match self.store.get_version(version_id).await? {
                Some(rec) if rec.key_id == record.key_id => Some(rec),
                _ => return Err(KmsError::KeyVersionNotFound),
            },
        };
        if record.state != KeyState::Enabled {
            return Err(KmsError::KeyStateRejected(record.state));
        }
        fits(&record)?;
        let version = match (cached, stored) {
            (Some(v), _) => v,
            (None, Some(rec)) => self.load_version_record(rec, &record, generation).await?,
            (None, None) => return Err(KmsError::KeyVersionNotFound),
        };
        Ok(Pair { record, version })
    }
}

/// The private-key handle of a loaded key-pair version.
fn private(version: &VersionKey) -> Result<&dyn PrivateKey, KmsError> {
    version.key.private().ok_or(KmsError::Corrupt)
}
