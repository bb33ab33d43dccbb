//! Key custody: the [`KeyProvider`] trait through which key material is made, imported,
//! stored and put to use, and the [`SoftwareProvider`] that keeps it wrapped under the root key.
//!
//! A provider turns fresh or imported material into a [`StoredKey`] (the opaque bytes the
//! store keeps for a key version) and a stored key back into a [`LoadedKey`] that can seal and
//! open but never shows its material. The service caches loaded keys, so an HSM-backed
//! provider can keep material inside the token and hand out handles instead. Every provider
//! passes the one conformance suite in the `openkms-keys-tests` crate.
//!
//! This module does not decide which key a request uses, nor lay out ciphertext blobs
//! ([`crate::ciphertext`]); it does no I/O of its own.

pub(crate) mod key_pair;
pub(crate) mod software;

use std::fmt;
use std::sync::Arc;

use crate::asymmetric::{DIGEST_LEN, EncryptAlgorithm, SignAlgorithm};
pub use crate::crypto::Message;
use crate::error::KmsError;
use crate::model::{KeySpec, KeyUsage};
use crate::secret::SecretBytes;
pub use software::SoftwareProvider;

/// Custody of key material: generation, import, and loading for use.
///
/// Implementations must bind each stored key to its [`KeyBinding`], so that a stored key
/// moved to another key or version does not load, and must report every failure to load
/// stored data as [`KmsError::Corrupt`].
pub trait KeyProvider: Send + Sync + 'static {
    /// A short stable name: `"software"`, later `"pkcs11"`.
    fn name(&self) -> &'static str;

    /// Makes fresh material for `spec`, kept for the version named by `bind`, of a key with
    /// `usage` (one [`KeySpec::allows`]). The service checks the usage before every use of the
    /// key; a provider whose device can restrict what a key may do (a token's `CKA_SIGN` and
    /// `CKA_DECRYPT`) does so as well, and the others may ignore it.
    fn generate(
        &self,
        spec: KeySpec,
        usage: KeyUsage,
        bind: &KeyBinding<'_>,
    ) -> Result<StoredKey, KmsError>;

    /// Takes material from outside (BYOK). Material of the wrong length for `spec` is refused
    /// with [`KmsError::InvalidParameter`].
    fn import(
        &self,
        spec: KeySpec,
        material: SecretBytes,
        bind: &KeyBinding<'_>,
    ) -> Result<StoredKey, KmsError>;

    /// Readies a stored key for use. A key stored for another binding, under another root
    /// key, or damaged, is [`KmsError::Corrupt`].
    fn load(
        &self,
        spec: KeySpec,
        stored: &StoredKey,
        bind: &KeyBinding<'_>,
    ) -> Result<LoadedKey, KmsError>;
}

/// What a stored key is bound to: the key and the version it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyBinding<'a> {
    /// The owning key's id.
    pub key_id: &'a str,
    /// The version's id.
    pub version_id: &'a str,
}

impl<'a> KeyBinding<'a> {
    /// The binding of version `version_id` of key `key_id`.
    pub fn version(key_id: &'a str, version_id: &'a str) -> Self {
        Self { key_id, version_id }
    }
}

/// A key as the store keeps it: opaque to everyone but the provider that made it (wrapped
/// material for the software provider; an object reference for an HSM). Not secret by
/// itself, but `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey(Vec<u8>);

impl StoredKey {
    /// Wraps bytes read from the store.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes to store, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoredKey({} bytes)", self.0.len())
    }
}

/// A key ready for use. Holds key material (or a handle to it), so it has no `Debug`.
#[derive(Clone)]
pub enum LoadedKey {
    /// A symmetric key: seals and opens customer data.
    Symmetric(Arc<dyn SymmetricKey>),
    /// The private half of a key pair: signs and decrypts, and knows its public key.
    Private(Arc<dyn PrivateKey>),
}

impl LoadedKey {
    /// The symmetric key, if this is one.
    pub fn symmetric(&self) -> Option<&dyn SymmetricKey> {
        match self {
            Self::Symmetric(key) => Some(key.as_ref()),
            Self::Private(_) => None,
        }
    }

    /// The private key, if this is a key pair.
    pub fn private(&self) -> Option<&dyn PrivateKey> {
        match self {
            Self::Private(key) => Some(key.as_ref()),
            Self::Symmetric(_) => None,
        }
    }

    /// The spec the key was loaded for.
    pub fn spec(&self) -> KeySpec {
        match self {
            Self::Symmetric(key) => key.spec(),
            Self::Private(key) => key.spec(),
        }
    }
}

/// A loaded private key (asymmetric specs), without access to its material: what a provider
/// hands out for a key pair. Public-key operations (verify, encrypt) need only
/// [`PrivateKey::public_key_der`] and are done by [`crate::asymmetric`].
pub trait PrivateKey: Send + Sync {
    /// The spec, which decides the algorithms.
    fn spec(&self) -> KeySpec;

    /// The public key as DER SubjectPublicKeyInfo.
    fn public_key_der(&self) -> &[u8];

    /// Signs a 32-byte digest as given (never hashed again): the raw k-byte RSA signature,
    /// or DER `SEQUENCE{r,s}` for ECDSA and SM2. An algorithm that does not fit the spec is
    /// [`KmsError::UnsupportedOperation`].
    fn sign(
        &self,
        algorithm: SignAlgorithm,
        digest: &[u8; DIGEST_LEN],
    ) -> Result<Vec<u8>, KmsError>;

    /// Whether [`PrivateKey::sign`] is cheap enough to run on the async worker serving the
    /// request: a few tens of microseconds of CPU and no I/O (an in-process P-256 signature
    /// takes about 16 µs). Other signatures (RSA, SM2, any token call) go to the service's
    /// bounded blocking lane, whose thread handoff costs more than a signature this cheap
    /// (BENCHMARKS.md, AsymmetricSign). `false` unless the provider knows better.
    fn signs_inline(&self) -> bool {
        false
    }

    /// Decrypts a bare standard ciphertext. Every failure to decrypt is
    /// [`KmsError::InvalidCiphertext`], with no detail.
    fn decrypt(
        &self,
        algorithm: EncryptAlgorithm,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, KmsError>;
}

/// Which variant of the ciphertext format a key's blobs use (`docs/ciphertext-format.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFormat {
    /// Format `0x01`: GCM under a per-message key derived from the material and
    /// [`Message::salt`]; no practical message limit.
    Derived,
    /// Format `0x02`, the HSM variant: AES-256-GCM directly under the version's key (which
    /// cannot leave its token to be derived from) with a random 96-bit nonce; there is no
    /// salt ([`Message::salt`] is ignored), and a version serves at most
    /// [`crate::ciphertext::DIRECT_MESSAGE_LIMIT`] encryptions.
    Direct,
}

/// A loaded symmetric key: the AEAD of the ciphertext format (a per-message key derived from
/// the material and [`Message::salt`], then GCM, or GCM directly for [`MessageFormat::Direct`]
/// keys), without access to the material.
pub trait SymmetricKey: Send + Sync {
    /// The spec, which decides the cipher.
    fn spec(&self) -> KeySpec;

    /// The ciphertext format variant this key seals and opens.
    fn format(&self) -> MessageFormat {
        MessageFormat::Derived
    }

    /// Seals `plaintext`, appending ciphertext ‖ 16-byte tag to `out` (which already holds the
    /// blob header); on failure `out` is left as it was.
    fn seal(
        &self,
        message: &Message<'_>,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), KmsError>;

    /// Opens ciphertext ‖ tag. Every failure is [`KmsError::InvalidCiphertext`], with no
    /// detail.
    fn open(&self, message: &Message<'_>, sealed: &[u8]) -> Result<SecretBytes, KmsError>;
}
