//! `ProtectionLevel=HSM` key pairs: the private key made in the token and used there, the
//! stored reference that names it, and the [`PrivateKey`] handle that signs and decrypts with
//! it. The private key may only sign or only decrypt, as the key's usage says
//! ([`crate::pair_token::PairUse`]); a pair made before that may do both, and loads as well.
//!
//! Offered: `RSA_2048`, `RSA_3072`, `RSA_4096` (`CKM_RSA_PKCS_KEY_PAIR_GEN`, e = 65537),
//! `EC_P256` (prime256v1) and `EC_P256K` (secp256k1), both `CKM_EC_KEY_PAIR_GEN`. `EC_SM2` is
//! refused: PKCS#11 has no standard SM2 mechanism. The stored reference is
//!
//! ```text
//! 0x83 ‖ spec ‖ CKA_ID (16) ‖ public key length (u16, big-endian) ‖ public key (DER SPKI)
//!      ‖ "openkms/<key id>/<version id>"
//! ```
//!
//! with spec `0x10`/`0x11`/`0x12` for RSA 2048/3072/4096, `0x20` for P-256 and `0x21` for
//! secp256k1. Loading checks every field (tag, spec, a public key of that spec, the binding's
//! label) before it looks for the private key, so a reference moved to another version, or
//! damaged, is [`KmsError::Corrupt`]. The reference is not sealed, so loading then checks the
//! private key object against it: an RSA or EC key as the spec says, sensitive and never
//! extractable, whose public key is the stored one (RSA: the object's modulus and exponent; EC:
//! a fixed digest signed in the token verifies with the stored key). A reference carrying
//! another public key, or naming a key that could have left the token, is
//! [`KmsError::Corrupt`]. The public key is kept here, so GetPublicKey, Verify and Encrypt
//! never call the token.
//!
//! In the token: RSA_PSS_SHA_256 is `CKM_RSA_PKCS_PSS` (SHA-256, MGF1-SHA-256, salt 32) over
//! the digest; RSA_PKCS1_SHA_256 is `CKM_RSA_PKCS` over `DigestInfo(SHA-256) ‖ digest`;
//! ECDSA_SHA_256 is `CKM_ECDSA` over the digest, whose `r ‖ s` becomes DER here (low-S for
//! secp256k1, like software keys). RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256 are
//! `CKM_RSA_PKCS_OAEP` with SHA-1 or SHA-256 (and MGF1 of the same hash, empty label), in the
//! token only: a token that refuses those mechanism parameters when the operation starts
//! (`C_DecryptInit`; SoftHSM2 2.6.1 allows OAEP only with SHA-1) gets
//! [`KmsError::UnsupportedOperation`], an answer decided before the ciphertext is used, so it
//! says nothing about the ciphertext. Any other failure before the ciphertext reaches the token
//! (a session, the login, a device error at `C_DecryptInit`) is the token being unavailable,
//! [`KmsError::Custody`]; every failure of `C_Decrypt`, and a plaintext of the wrong length,
//! is [`KmsError::InvalidCiphertext`], with no detail.

use std::sync::Arc;

use cryptoki::context::Function;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::ObjectHandle;
use openkms_core::asymmetric::{DIGEST_LEN, EncryptAlgorithm, SignAlgorithm, rsa_bytes};
use openkms_core::asymmetric::{spec_of_public_key, verify};
use openkms_core::token_pair::{
    ec_public_key_der, ecdsa_signature_der, pkcs1_sha256_input, rsa_public_key_der,
};
use openkms_core::{KeyBinding, KeySpec, KeyUsage, KmsError, PrivateKey, SecretBytes};

use crate::pair_token::{
    P256_PARAMS, P256K_PARAMS, PairDecrypt, PairKind, PairSign, PairUse, PublicParts,
};
use crate::provider::{OBJECT_ID_LEN, object_label};
use crate::token::{Extractable, Token, TokenError};
use crate::token_failed;

/// Format tag of a stored reference to a token key pair.
pub const STORED_PAIR_V1: u8 = 0x83;
/// Where the public key's length sits in a reference.
const LEN_AT: usize = 2 + OBJECT_ID_LEN;

/// The pair kind and the reference's spec byte of an offered pair spec; `None` for the others
/// (`EC_SM2`: no standard PKCS#11 mechanism; symmetric specs).
pub(crate) fn offered_pair(spec: KeySpec) -> Option<(PairKind, u8)> {
    match spec {
        KeySpec::Rsa2048 => Some((PairKind::Rsa(2048), 0x10)),
        KeySpec::Rsa3072 => Some((PairKind::Rsa(3072), 0x11)),
        KeySpec::Rsa4096 => Some((PairKind::Rsa(4096), 0x12)),
        KeySpec::EcP256 => Some((PairKind::Ec(P256_PARAMS), 0x20)),
        KeySpec::EcP256K => Some((PairKind::Ec(P256K_PARAMS), 0x21)),
        KeySpec::EcSm2 | KeySpec::AliyunAes256 | KeySpec::AliyunSm4 => None,
    }
}

/// Makes a pair of `spec` in `token` for `bind`, with the object id `id`, whose private key
/// may only do what `usage` (one the spec allows) says; its stored reference.
pub(crate) fn generate(
    token: &Token,
    spec: KeySpec,
    usage: KeyUsage,
    id: &[u8; OBJECT_ID_LEN],
    bind: &KeyBinding<'_>,
    extractable: Extractable,
) -> Result<Vec<u8>, KmsError> {
    let (kind, spec_byte) = offered_pair(spec).ok_or(KmsError::UnsupportedOperation)?;
    let pair_use = match usage {
        KeyUsage::SignVerify => PairUse::Sign,
        KeyUsage::EncryptDecrypt => PairUse::Decrypt,
    };
    let (private, public) = token
        .generate_pair(kind, pair_use, &object_label(bind), id, extractable)
        .map_err(|e| token_failed("generate key pair", &e))?;
    let der = match public {
        PublicParts::Rsa { modulus, exponent } => rsa_public_key_der(spec, &modulus, &exponent),
        PublicParts::Ec(point) => ec_public_key_der(spec, &point),
    };
    let der = der.inspect_err(|_| {
        tracing::error!(?spec, "the PKCS#11 token reported an unusable public key");
        if let Err(e) = token.destroy(private) {
            token_failed("destroy key pair", &e);
        }
    })?;
    stored_ref(spec_byte, id, &der, bind)
}

fn stored_ref(
    spec_byte: u8,
    id: &[u8; OBJECT_ID_LEN],
    public_der: &[u8],
    bind: &KeyBinding<'_>,
) -> Result<Vec<u8>, KmsError> {
    let label = object_label(bind);
    let len = u16::try_from(public_der.len()).map_err(|_| KmsError::Corrupt)?;
    let mut out = Vec::with_capacity(LEN_AT + 2 + public_der.len() + label.len());
    out.push(STORED_PAIR_V1);
    out.push(spec_byte);
    out.extend_from_slice(id);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(public_der);
    out.extend_from_slice(label.as_bytes());
    Ok(out)
}

/// The object id and public key of a reference made for `spec` and `bind`; `None` for
/// anything else.
fn parse_ref(
    stored: &[u8],
    spec: KeySpec,
    bind: &KeyBinding<'_>,
) -> Option<([u8; OBJECT_ID_LEN], Vec<u8>)> {
    let (_, spec_byte) = offered_pair(spec)?;
    let id: [u8; OBJECT_ID_LEN] = stored.get(2..LEN_AT)?.try_into().ok()?;
    let len: [u8; 2] = stored.get(LEN_AT..LEN_AT + 2)?.try_into().ok()?;
    let der = stored.get(LEN_AT + 2..LEN_AT + 2 + usize::from(u16::from_be_bytes(len)))?;
    let remade = stored_ref(spec_byte, &id, der, bind).ok()?;
    let fits = stored == remade.as_slice() && spec_of_public_key(der) == Some(spec);
    fits.then(|| (id, der.to_vec()))
}

/// Loads the pair a reference names: [`KmsError::Corrupt`] unless it was made for `spec` and
/// `bind` and its private key is in the token.
pub(crate) fn load(
    token: &Arc<Token>,
    spec: KeySpec,
    stored: &[u8],
    bind: &KeyBinding<'_>,
) -> Result<Arc<dyn PrivateKey>, KmsError> {
    let (id, public_der) = parse_ref(stored, spec, bind).ok_or(KmsError::Corrupt)?;
    let (kind, _) = offered_pair(spec).ok_or(KmsError::Corrupt)?;
    let handle = token
        .find_private_key(&object_label(bind), &id)
        .map_err(|e| token_failed("find key pair", &e))?
        .ok_or(KmsError::Corrupt)?;
    let pair = TokenPair {
        token: token.clone(),
        handle,
        spec,
        public_der,
    };
    if !pair.is_the_token_key(kind)? {
        tracing::error!(
            ?spec,
            "a stored HSM key pair reference does not match its private key in the token"
        );
        return Err(KmsError::Corrupt);
    }
    Ok(Arc::new(pair))
}

/// The digest an EC pair signs in the token when it is loaded, to show that the stored public
/// key is its own (32 bytes, the length of a SHA-256 digest).
const PROOF_DIGEST: [u8; DIGEST_LEN] = *b"openkms: the token key's proof.\0";

impl TokenPair {
    /// Whether the private key object is a `kind` key that never could leave the token and the
    /// stored public key is its own. The stored reference is not sealed, so this is what
    /// stops a store row or backup carrying someone else's public key: RSA compares the
    /// object's (public) modulus and exponent with the stored key; EC, whose private object has
    /// no point, signs [`PROOF_DIGEST`] in the token and verifies it with the stored key.
    fn is_the_token_key(&self, kind: PairKind) -> Result<bool, KmsError> {
        let facts = self
            .token
            .private_key_facts(self.handle)
            .map_err(|e| token_failed("read key pair attributes", &e))?;
        if !facts.kept_in_token(kind) {
            return Ok(false);
        }
        match (kind, facts.modulus, facts.exponent) {
            (PairKind::Rsa(_), Some(n), Some(e)) => {
                let der = rsa_public_key_der(self.spec, &n, &e);
                Ok(der.is_ok_and(|der| der == self.public_der))
            }
            (PairKind::Rsa(_), _, _) => Ok(false),
            (PairKind::Ec(_), _, _) => {
                let alg = SignAlgorithm::EcdsaSha256;
                let signature = self.sign(alg, &PROOF_DIGEST)?;
                Ok(verify(
                    &self.public_der,
                    alg,
                    self.spec,
                    &PROOF_DIGEST,
                    &signature,
                ))
            }
        }
    }
}

/// A key pair version whose private key is in the token. Holds a handle, not material.
struct TokenPair {
    token: Arc<Token>,
    handle: ObjectHandle,
    spec: KeySpec,
    public_der: Vec<u8>,
}

impl PrivateKey for TokenPair {
    fn spec(&self) -> KeySpec {
        self.spec
    }

    fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    fn sign(
        &self,
        algorithm: SignAlgorithm,
        digest: &[u8; DIGEST_LEN],
    ) -> Result<Vec<u8>, KmsError> {
        if !algorithm.fits(self.spec) {
            return Err(KmsError::UnsupportedOperation);
        }
        let (how, data) = match algorithm {
            SignAlgorithm::RsaPssSha256 => (PairSign::RsaPssSha256, digest.to_vec()),
            SignAlgorithm::RsaPkcs1Sha256 => (PairSign::RsaPkcs1, pkcs1_sha256_input(digest)),
            SignAlgorithm::EcdsaSha256 => (PairSign::Ecdsa, digest.to_vec()),
            SignAlgorithm::Sm2Dsa => return Err(KmsError::UnsupportedOperation),
        };
        let signed = self
            .token
            .sign_pair(self.handle, how, &data)
            .map_err(|e| token_failed("sign", &e))?;
        match how {
            PairSign::Ecdsa => ecdsa_signature_der(self.spec, &signed),
            _ if signed.len() == rsa_bytes(self.spec) => Ok(signed),
            _ => Err(KmsError::Corrupt),
        }
    }

    fn decrypt(
        &self,
        algorithm: EncryptAlgorithm,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, KmsError> {
        if !algorithm.fits(self.spec) {
            return Err(KmsError::UnsupportedOperation);
        }
        let how = match algorithm {
            EncryptAlgorithm::RsaesOaepSha1 => PairDecrypt::OaepSha1,
            EncryptAlgorithm::RsaesOaepSha256 => PairDecrypt::OaepSha256,
            EncryptAlgorithm::Sm2Pke => return Err(KmsError::UnsupportedOperation),
        };
        // The token judges the ciphertext's length too (CKR_ENCRYPTED_DATA_LEN_RANGE), so that
        // a mechanism it refuses is refused whatever the ciphertext; the length is checked
        // again here in case a token decrypted something that is not k bytes.
        let fits = ciphertext.len() == rsa_bytes(self.spec);
        match self.token.decrypt_pair(self.handle, how, ciphertext) {
            Ok(plain) => {
                // Zeroized when dropped, also when it is not k bytes' worth and refused.
                let plain = SecretBytes::new(plain);
                fits.then_some(plain).ok_or(KmsError::InvalidCiphertext)
            }
            Err(e) if refuses_mechanism(&e) => {
                tracing::warn!(
                    ?algorithm,
                    "the PKCS#11 token does not support this algorithm"
                );
                Err(KmsError::UnsupportedOperation)
            }
            Err(e) if judged_ciphertext(&e) => {
                tracing::debug!(error = %e, "the PKCS#11 token refused a ciphertext");
                Err(KmsError::InvalidCiphertext)
            }
            // Before `C_Decrypt` saw the ciphertext (no session, not logged in, a stale handle,
            // a device error): the token is unavailable, whatever the ciphertext.
            Err(e) => Err(token_failed("decrypt", &e)),
        }
    }
}

/// Whether `C_Decrypt` itself failed, the only call that sees the ciphertext: whatever it
/// answers is the same [`KmsError::InvalidCiphertext`] to the caller.
fn judged_ciphertext(e: &TokenError) -> bool {
    matches!(e, TokenError::Call(CkError::Pkcs11(_, Function::Decrypt)))
}

/// Whether the token refused the mechanism or its parameters when the operation started: a
/// capability it lacks, decided before the ciphertext is used, not a verdict on it.
fn refuses_mechanism(e: &TokenError) -> bool {
    matches!(
        e,
        TokenError::Call(CkError::Pkcs11(
            RvError::ArgumentsBad | RvError::MechanismInvalid | RvError::MechanismParamInvalid,
            Function::DecryptInit
        ))
    )
}
