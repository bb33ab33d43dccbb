//! [`Pkcs11Root`]: the root key as a non-extractable AES-256 key inside a PKCS#11 token.
//!
//! The key is found by its label, or made at the first start of a store when no key carries it
//! (`CKA_TOKEN`, `CKA_SENSITIVE`, `CKA_EXTRACTABLE=false`, encrypt and decrypt only). Every
//! wrap and unwrap runs in the token as AES-256-GCM:
//!
//! ```text
//! 0x81 ‖ IV (12, random, from the caller's rng) ‖ ciphertext ‖ tag (16)
//! ```
//!
//! with the same record binding as associated data as the in-memory root key
//! (`openkms/v1/wrap/<label>\0<id>`, [`openkms_core::rootkey::wrap_aad`]). The format byte
//! `0x81` differs from the in-memory key's `0x01`, so a blob's custody is visible in the
//! store. Wraps are few (one per key version, AccessKey, check value and cursor key), far
//! below GCM's 2^32 limit for random IVs.

use std::sync::Arc;

use cryptoki::object::ObjectHandle;
use openkms_core::rootkey::wrap_aad;
use openkms_core::{KmsError, RootSeal, SecretBytes, SecureRandom};

use crate::token::{Extractable, TAG_LEN, Token, TokenError};
use crate::token_failed;

/// Format byte of a secret wrapped in a token.
pub const WRAP_TOKEN_V1: u8 = 0x81;
/// Length of the GCM IV.
const IV_LEN: usize = 12;

/// The root key inside a token.
pub struct Pkcs11Root {
    token: Arc<Token>,
    key: ObjectHandle,
}

impl std::fmt::Debug for Pkcs11Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pkcs11Root({:?})", self.token)
    }
}

impl Pkcs11Root {
    /// The key labelled `label` in `token`, if there is one.
    pub fn find(token: Arc<Token>, label: &str) -> Result<Option<Self>, TokenError> {
        Ok(token.find_key(label, None)?.map(|key| Self { token, key }))
    }

    /// Makes a new root key labelled `label` in `token` (at the first start of a store).
    pub fn create(token: Arc<Token>, label: &str) -> Result<Self, TokenError> {
        let key = token.generate_key(label, label.as_bytes(), Extractable::Never)?;
        Ok(Self { token, key })
    }

    /// Whether the key could leave the token (never, for a key made by [`Pkcs11Root::create`]).
    pub fn is_extractable(&self) -> Result<bool, TokenError> {
        self.token.is_extractable(self.key)
    }
}

impl RootSeal for Pkcs11Root {
    fn custody(&self) -> &'static str {
        "pkcs11"
    }

    fn wrap(
        &self,
        rng: &dyn SecureRandom,
        label: &str,
        id: &str,
        secret: &[u8],
    ) -> Result<Vec<u8>, KmsError> {
        let mut iv = [0u8; IV_LEN];
        rng.fill(&mut iv);
        let sealed = self
            .token
            .gcm_seal(self.key, &iv, &wrap_aad(label, id), secret)
            .map_err(|e| token_failed("wrap", &e))?;
        let mut out = Vec::with_capacity(1 + IV_LEN + sealed.len());
        out.push(WRAP_TOKEN_V1);
        out.extend_from_slice(&iv);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap(&self, label: &str, id: &str, wrapped: &[u8]) -> Result<SecretBytes, KmsError> {
        if wrapped.len() < 1 + IV_LEN + TAG_LEN || wrapped[0] != WRAP_TOKEN_V1 {
            return Err(KmsError::Corrupt);
        }
        let iv: [u8; IV_LEN] = wrapped[1..=IV_LEN]
            .try_into()
            .map_err(|_| KmsError::Corrupt)?;
        self.token
            .gcm_open(self.key, &iv, &wrap_aad(label, id), &wrapped[1 + IV_LEN..])
            .map_err(|_| KmsError::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use aes_gcm::Aes256Gcm;
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use openkms_core::OsRandom;
    use openkms_core::rootkey::{check_value, verify_check};

    use super::*;
    use crate::testing;

    fn label(what: &str) -> String {
        let mut id = [0u8; 8];
        OsRandom::new().fill(&mut id);
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        format!("test-root-{what}-{hex}")
    }

    #[test]
    fn wraps_in_the_token_bound_to_the_record() {
        let Some(token) = testing::token() else {
            return;
        };
        let rng = OsRandom::new();
        let name = label("bind");
        assert!(Pkcs11Root::find(token.clone(), &name).unwrap().is_none());
        let root = Pkcs11Root::create(token.clone(), &name).unwrap();
        assert!(
            !root.is_extractable().unwrap(),
            "the root key never leaves the token"
        );
        assert!(
            token.key_value(root.key).is_err(),
            "its value cannot be read"
        );
        let wrapped = root.wrap(&rng, "key-version", "k/v", b"material").unwrap();
        assert_eq!(wrapped[0], WRAP_TOKEN_V1);
        assert_eq!(wrapped.len(), 1 + IV_LEN + 8 + TAG_LEN);
        let again = Pkcs11Root::find(token.clone(), &name).unwrap().unwrap();
        let opened = again.unwrap("key-version", "k/v", &wrapped).unwrap();
        assert!(opened.ct_eq(b"material"), "found again by label, it opens");
        for (l, id) in [("key-version", "k/w"), ("access-key", "k/v")] {
            assert!(matches!(
                again.unwrap(l, id, &wrapped),
                Err(KmsError::Corrupt)
            ));
        }
        for i in 0..wrapped.len() {
            let mut bad = wrapped.clone();
            bad[i] ^= 1;
            assert!(again.unwrap("key-version", "k/v", &bad).is_err(), "bit {i}");
        }
        let other = Pkcs11Root::create(token, &label("other")).unwrap();
        let check = check_value(&root, &rng).unwrap();
        assert!(verify_check(&again, &check));
        assert!(
            !verify_check(&other, &check),
            "another token key is another root key"
        );
    }

    /// The layout, checked with RustCrypto's AES-256-GCM under a key made extractable for
    /// this test only: `0x81 ‖ IV ‖ AES-256-GCM(key, IV, aad = wrap_aad(label, id))`.
    #[test]
    fn the_wrap_format_is_plain_aes_gcm_with_the_record_as_aad() {
        let Some(token) = testing::token() else {
            return;
        };
        let name = label("format");
        let key = token
            .generate_key(&name, name.as_bytes(), Extractable::ForTests)
            .unwrap();
        let root = Pkcs11Root {
            token: token.clone(),
            key,
        };
        let value = token.key_value(key).unwrap();
        let cipher = Aes256Gcm::new_from_slice(value.expose_secret()).unwrap();
        let wrapped = root
            .wrap(&OsRandom::new(), "access-key", "LTAI1", b"secret")
            .unwrap();
        let aad = wrap_aad("access-key", "LTAI1");
        let iv: [u8; IV_LEN] = wrapped[1..=IV_LEN].try_into().unwrap();
        let payload = Payload {
            msg: &wrapped[1 + IV_LEN..],
            aad: &aad,
        };
        assert_eq!(cipher.decrypt(&iv.into(), payload).unwrap(), b"secret");
        let theirs = cipher
            .encrypt(
                &iv.into(),
                Payload {
                    msg: b"theirs",
                    aad: &aad,
                },
            )
            .unwrap();
        let blob = [&[WRAP_TOKEN_V1][..], &iv, &theirs].concat();
        let opened = root.unwrap("access-key", "LTAI1", &blob).unwrap();
        assert!(opened.ct_eq(b"theirs"));
    }
}
