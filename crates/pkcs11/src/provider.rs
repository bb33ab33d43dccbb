//! [`Pkcs11Provider`]: `ProtectionLevel=HSM` keys, whose material is made inside the token and
//! never leaves it.
//!
//! Each key version is one AES-256 token object (`CKA_TOKEN`, `CKA_SENSITIVE`,
//! `CKA_EXTRACTABLE=false`, encrypt and decrypt only), labelled `openkms/<key id>/<version id>`
//! and identified (`CKA_ID`) by 16 random bytes drawn when it is made, so that two objects
//! never share an identity even where a label repeats (a retried create, several servers on
//! one token). What the store keeps is only a reference:
//!
//! ```text
//! 0x82 ‖ spec (0x01 = Aliyun_AES_256) ‖ CKA_ID (16) ‖ "openkms/<key id>/<version id>"
//! ```
//!
//! so a stored key moved to another key or version does not match its binding, and a damaged
//! one names no object; both fail to load. A loaded key seals and opens in the token with AES-256-GCM directly
//! under the version's key: the HSM variant of the ciphertext format
//! ([`MessageFormat::Direct`], `docs/ciphertext-format.md`), whose message limit the service
//! enforces. The token has no HKDF, so the software format's per-message keys cannot be
//! made without the material leaving it.
//!
//! Of the symmetric specs only `Aliyun_AES_256` is offered (PKCS#11 has no standard SM4
//! mechanism). Key pairs (RSA 2048/3072/4096, P-256, secp256k1) are made and used in the token
//! too, with a reference of their own ([`crate::pair`]); `EC_SM2` is refused. Import (BYOK)
//! into the token is refused for now with [`KmsError::UnsupportedOperation`], after the same
//! length check as every provider.

use std::sync::Arc;

use cryptoki::object::ObjectHandle;
use openkms_core::crypto::{Message, TAG_LEN};
use openkms_core::provider::MessageFormat;
use openkms_core::{
    Field, InvalidReason, KeyBinding, KeyProvider, KeySpec, KeyUsage, KmsError, LoadedKey,
    SecretBytes, SecureRandom, StoredKey, SymmetricKey,
};

use crate::pair;
use crate::token::{Extractable, Token};
use crate::token_failed;

/// Format tag of a stored reference to a token key.
pub const STORED_REF_V1: u8 = 0x82;
/// The spec byte of `Aliyun_AES_256`.
const SPEC_AES_256: u8 = 0x01;
/// Length of an object's random `CKA_ID`.
pub(crate) const OBJECT_ID_LEN: usize = 16;

/// HSM-protected keys in a PKCS#11 token.
pub struct Pkcs11Provider {
    token: Arc<Token>,
    rng: Arc<dyn SecureRandom>,
    extractable: Extractable,
}

impl Pkcs11Provider {
    /// A provider making its keys in `token`, drawing object ids from `rng`.
    pub fn new(token: Arc<Token>, rng: Arc<dyn SecureRandom>) -> Self {
        Self {
            token,
            rng,
            extractable: Extractable::Never,
        }
    }

    /// A provider whose keys can be read out of the token, so that a test can check the
    /// format with another implementation. Never for serving.
    #[doc(hidden)]
    pub fn extractable_for_tests(token: Arc<Token>, rng: Arc<dyn SecureRandom>) -> Self {
        Self {
            token,
            rng,
            extractable: Extractable::ForTests,
        }
    }

    /// The token the keys live in.
    pub fn token(&self) -> &Arc<Token> {
        &self.token
    }
}

/// The token label (and id) of a version's key.
pub fn object_label(bind: &KeyBinding<'_>) -> String {
    format!("openkms/{}/{}", bind.key_id, bind.version_id)
}

fn stored_ref(id: &[u8; OBJECT_ID_LEN], bind: &KeyBinding<'_>) -> Vec<u8> {
    let label = object_label(bind);
    let mut out = Vec::with_capacity(2 + OBJECT_ID_LEN + label.len());
    out.push(STORED_REF_V1);
    out.push(SPEC_AES_256);
    out.extend_from_slice(id);
    out.extend_from_slice(label.as_bytes());
    out
}

/// The object id of a stored reference made for `bind`; `None` for anything else.
fn object_id(stored: &[u8], bind: &KeyBinding<'_>) -> Option<[u8; OBJECT_ID_LEN]> {
    let id: [u8; OBJECT_ID_LEN] = stored.get(2..2 + OBJECT_ID_LEN)?.try_into().ok()?;
    (stored == stored_ref(&id, bind).as_slice()).then_some(id)
}

fn offered(spec: KeySpec) -> Result<(), KmsError> {
    match spec {
        KeySpec::AliyunAes256 => Ok(()),
        // Made and used in the token by `crate::pair`.
        KeySpec::Rsa2048
        | KeySpec::Rsa3072
        | KeySpec::Rsa4096
        | KeySpec::EcP256
        | KeySpec::EcP256K => Ok(()),
        // SM4 and SM2 have no standard PKCS#11 mechanism: CreateKey's documented
        // `UnsupportedOperation`.
        KeySpec::AliyunSm4 | KeySpec::EcSm2 => Err(KmsError::UnsupportedOperation),
    }
}

impl KeyProvider for Pkcs11Provider {
    fn name(&self) -> &'static str {
        "pkcs11"
    }

    fn generate(
        &self,
        spec: KeySpec,
        usage: KeyUsage,
        bind: &KeyBinding<'_>,
    ) -> Result<StoredKey, KmsError> {
        offered(spec)?;
        if !spec.allows(usage) {
            return Err(KmsError::UnsupportedOperation);
        }
        let mut id = [0u8; OBJECT_ID_LEN];
        self.rng.fill(&mut id);
        if spec.is_asymmetric() {
            let stored = pair::generate(&self.token, spec, usage, &id, bind, self.extractable)?;
            return Ok(StoredKey::from_bytes(stored));
        }
        self.token
            .generate_key(&object_label(bind), &id, self.extractable)
            .map_err(|e| token_failed("generate", &e))?;
        Ok(StoredKey::from_bytes(stored_ref(&id, bind)))
    }

    fn import(
        &self,
        spec: KeySpec,
        material: SecretBytes,
        _bind: &KeyBinding<'_>,
    ) -> Result<StoredKey, KmsError> {
        if spec.is_asymmetric() {
            return Err(KmsError::UnsupportedOperation);
        }
        if material.len() != spec.material_len() {
            return Err(KmsError::invalid(
                Field::KeyMaterial,
                InvalidReason::BadFormat,
            ));
        }
        Err(KmsError::UnsupportedOperation)
    }

    fn load(
        &self,
        spec: KeySpec,
        stored: &StoredKey,
        bind: &KeyBinding<'_>,
    ) -> Result<LoadedKey, KmsError> {
        if offered(spec).is_err() {
            return Err(KmsError::Corrupt);
        }
        if spec.is_asymmetric() {
            let key = pair::load(&self.token, spec, stored.as_bytes(), bind)?;
            return Ok(LoadedKey::Private(key));
        }
        let id = object_id(stored.as_bytes(), bind).ok_or(KmsError::Corrupt)?;
        let handle = self
            .token
            .find_key(&object_label(bind), Some(&id))
            .map_err(|e| token_failed("find", &e))?
            .ok_or(KmsError::Corrupt)?;
        Ok(LoadedKey::Symmetric(Arc::new(TokenKey {
            token: self.token.clone(),
            handle,
        })))
    }
}

/// A version's key in the token: seals and opens there.
struct TokenKey {
    token: Arc<Token>,
    handle: ObjectHandle,
}

impl SymmetricKey for TokenKey {
    fn spec(&self) -> KeySpec {
        KeySpec::AliyunAes256
    }

    fn format(&self) -> MessageFormat {
        MessageFormat::Direct
    }

    fn seal(
        &self,
        message: &Message<'_>,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), KmsError> {
        let sealed = self
            .token
            .gcm_seal(self.handle, message.nonce, message.aad, plaintext)
            .map_err(|e| token_failed("encrypt", &e))?;
        out.extend_from_slice(&sealed);
        Ok(())
    }

    fn open(&self, message: &Message<'_>, sealed: &[u8]) -> Result<SecretBytes, KmsError> {
        if sealed.len() < TAG_LEN {
            return Err(KmsError::InvalidCiphertext);
        }
        self.token
            .gcm_open(self.handle, message.nonce, message.aad, sealed)
            .map_err(|_| KmsError::InvalidCiphertext)
    }
}
