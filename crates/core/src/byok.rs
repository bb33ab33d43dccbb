//! The cryptography of key import (BYOK, §4 of the next-surfaces contract), without storage:
//! issuing GetParametersForImport's wrapping key and `ImportToken`, opening a token, and
//! unwrapping `EncryptedKeyMaterial` with it.
//!
//! A token is self-contained: the wrapping private key (PKCS#8), the wrapping algorithm and
//! key spec, its issue time and expiry (issue time + 24 h, both in milliseconds), sealed with
//! [`RootSeal::wrap`] under the label `import-token` and the key id. It therefore opens only for
//! the key it was issued for and only under the root key that sealed it (after
//! `openkms root-key rotate`, ask for new parameters); the client cannot read or alter it, and
//! every call makes a new wrapping key. Nothing is stored per token; a key's tokens are revoked
//! together by moving its `tokens_not_before` past their issue time ([`open_token`]). Also
//! here: the check of `KeyMaterialExpireUnix` ([`material_expiry`]) and the constant-time
//! comparison of material fingerprints ([`same_fingerprint`]; the fingerprint itself is
//! [`crate::rootkey::CursorKey::material_fingerprint`]). The actions that use this are served
//! by `service::imports`.
//!
//! When a key's tokens are revoked (the service's choice, recorded here as the one place that
//! explains it): after [`UNWRAP_FAILURE_LIMIT`] failed imports against the key (any
//! `InvalidKeyMaterial`: material that does not unwrap, has the wrong length, or differs from
//! the first import), so a client cannot use the key's tokens as a PKCS#1 v1.5 padding oracle
//! (Bleichenbacher needs thousands of queries; ten then a new wrapping key stops it); and on
//! DeleteKeyMaterial. Not on a successful import: the contract lets a token be reused within
//! its 24 h to re-import (to reset the expiry). Not on material expiry either: expiry is
//! evaluated lazily, and the cure for it is a re-import, which needs a token. Nor on
//! ScheduleKeyDeletion: a key pending deletion refuses imports anyway.
//!
//! Failures carry no detail: a token that does not open, was issued for another key, or is
//! damaged is [`KmsError::InvalidImportToken`]; an expired one [`KmsError::ExpiredImportToken`];
//! material that does not unwrap or has the wrong length [`KmsError::InvalidKeyMaterial`]. Every
//! import failure after the token opened takes the same path back (the same error, the same
//! failure count), so the reply tells nothing of where the unwrap failed beyond what the
//! RSA decryption's own timing does; the failure limit bounds how often that can be asked.

use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use crate::asymmetric::EncryptAlgorithm;
use crate::error::KmsError;
use crate::model::KeySpec;
use crate::provider::PrivateKey;
use crate::provider::key_pair::{SoftwarePair, generate_pkcs8};
use crate::random::SecureRandom;
use crate::rootkey::RootSeal;
use crate::secret::SecretBytes;

/// How long an `ImportToken` is good for: 24 hours (§4.2).
pub const TOKEN_LIFETIME_SECS: i64 = 24 * 3600;
/// Wrap label of import tokens.
const TOKEN_LABEL: &str = "import-token";
/// The token format this build writes and reads.
const TOKEN_V1: u8 = 1;
/// How many failed imports against one key revoke all its tokens (see the module doc).
pub const UNWRAP_FAILURE_LIMIT: i64 = 10;
/// Format byte, algorithm, spec, issue time, expiry (milliseconds).
const TOKEN_HEADER: usize = 1 + 1 + 1 + 8 + 8;
/// The latest `KeyMaterialExpireUnix` accepted: 9999-12-31T23:59:59Z.
pub const MAX_MATERIAL_EXPIRY: i64 = 253_402_300_799;
/// The longest `ImportToken` text accepted (an RSA-2048 token is about 1.7 KB of base64).
pub const MAX_TOKEN_CHARS: usize = 4096;

/// How the client wraps the material (`WrappingAlgorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrappingAlgorithm {
    /// RSAES-OAEP, SHA-256 and MGF1-SHA-256, empty label.
    RsaesOaepSha256,
    /// RSAES-OAEP, SHA-1 and MGF1-SHA-1, empty label.
    RsaesOaepSha1,
    /// RSAES-PKCS1-v1_5 (the console's default).
    RsaesPkcs1V15,
    /// SM2 encryption with an EC_SM2 wrapping key.
    Sm2Pke,
}

const ALGORITHMS: [WrappingAlgorithm; 4] = [
    WrappingAlgorithm::RsaesOaepSha256,
    WrappingAlgorithm::RsaesOaepSha1,
    WrappingAlgorithm::RsaesPkcs1V15,
    WrappingAlgorithm::Sm2Pke,
];

impl WrappingAlgorithm {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
            Self::RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
            Self::RsaesPkcs1V15 => "RSAES_PKCS1_V1_5",
            Self::Sm2Pke => "SM2PKE",
        }
    }

    /// Parses an API name.
    pub fn parse(s: &str) -> Option<Self> {
        ALGORITHMS.into_iter().find(|a| a.as_str() == s)
    }

    fn code(self) -> u8 {
        match self {
            Self::RsaesOaepSha256 => 1,
            Self::RsaesOaepSha1 => 2,
            Self::RsaesPkcs1V15 => 3,
            Self::Sm2Pke => 4,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        ALGORITHMS.into_iter().find(|a| a.code() == code)
    }

    /// Whether it goes with `spec` (`WrappingKeySpec`): the RSA algorithms with `RSA_2048`,
    /// SM2PKE with `EC_SM2` (§4.2).
    pub fn fits(self, spec: KeySpec) -> bool {
        match self {
            Self::Sm2Pke => spec == KeySpec::EcSm2,
            _ => spec == KeySpec::Rsa2048,
        }
    }
}

/// What GetParametersForImport answers.
#[derive(Debug)]
pub struct ImportParameters {
    /// The wrapping public key, DER SubjectPublicKeyInfo (the API sends its bare base64).
    pub public_key_der: Vec<u8>,
    /// The opaque `ImportToken` text.
    pub token: String,
    /// When the token expires, seconds since the epoch (rounded down).
    pub expires_at: i64,
}

/// An opened token: the wrapping key to unwrap with. No `Debug`: it holds a private key.
pub struct OpenedToken {
    algorithm: WrappingAlgorithm,
    issued_ms: i64,
    spec: KeySpec,
    pkcs8: SecretBytes,
}

/// Makes a fresh wrapping key of `spec` and a token for `key_id`, valid 24 h from `now_ms`
/// (milliseconds). An
/// algorithm that does not fit the spec, or a spec other than `RSA_2048`/`EC_SM2`, is
/// [`KmsError::UnsupportedOperation`] (the codec names the parameter).
pub fn issue(
    root: &dyn RootSeal,
    rng: &dyn SecureRandom,
    key_id: &str,
    algorithm: WrappingAlgorithm,
    spec: KeySpec,
    now_ms: i64,
) -> Result<ImportParameters, KmsError> {
    if !algorithm.fits(spec) {
        return Err(KmsError::UnsupportedOperation);
    }
    let pkcs8 = generate_pkcs8(spec, rng)?;
    let public_key_der = SoftwarePair::from_pkcs8(spec, &pkcs8)?
        .public_key_der()
        .to_vec();
    let expires_ms = now_ms.saturating_add(TOKEN_LIFETIME_SECS * 1000);
    let mut plain = Zeroizing::new(Vec::with_capacity(TOKEN_HEADER + pkcs8.len()));
    plain.extend_from_slice(&[TOKEN_V1, algorithm.code(), spec.code()]);
    plain.extend_from_slice(&now_ms.to_be_bytes());
    plain.extend_from_slice(&expires_ms.to_be_bytes());
    plain.extend_from_slice(&pkcs8);
    let sealed = root.wrap(rng, TOKEN_LABEL, key_id, &plain)?;
    Ok(ImportParameters {
        public_key_der,
        token: B64.encode(sealed),
        expires_at: expires_ms.div_euclid(1000),
    })
}

/// Opens a token issued for `key_id`; checks its expiry against `now_ms`. A token issued
/// before `not_before_ms` (the key's revocation time: material deleted, or too many failed
/// unwraps) is [`KmsError::InvalidImportToken`]. Times in milliseconds.
pub fn open_token(
    root: &dyn RootSeal,
    key_id: &str,
    token: &str,
    now_ms: i64,
    not_before_ms: i64,
) -> Result<OpenedToken, KmsError> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(KmsError::InvalidImportToken);
    }
    let sealed = B64
        .decode(token.trim())
        .map_err(|_| KmsError::InvalidImportToken)?;
    let plain = root
        .unwrap(TOKEN_LABEL, key_id, &sealed)
        .map_err(|_| KmsError::InvalidImportToken)?;
    let bytes = plain.expose_secret();
    let header = bytes
        .get(..TOKEN_HEADER)
        .ok_or(KmsError::InvalidImportToken)?;
    let algorithm = WrappingAlgorithm::from_code(header[1]);
    let spec = KeySpec::from_code(header[2]);
    let (Some(algorithm), Some(spec), TOKEN_V1) = (algorithm, spec, header[0]) else {
        return Err(KmsError::InvalidImportToken);
    };
    let time_at = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&header[at..at + 8]);
        i64::from_be_bytes(bytes)
    };
    if time_at(3) < not_before_ms {
        return Err(KmsError::InvalidImportToken);
    }
    if now_ms >= time_at(11) {
        return Err(KmsError::ExpiredImportToken);
    }
    Ok(OpenedToken {
        algorithm,
        issued_ms: time_at(3),
        spec,
        pkcs8: SecretBytes::new(bytes[TOKEN_HEADER..].to_vec()),
    })
}

impl OpenedToken {
    /// The wrapping algorithm the token was issued for.
    pub fn algorithm(&self) -> WrappingAlgorithm {
        self.algorithm
    }

    /// When the token was issued, milliseconds (its revocation is checked against this again
    /// when the material is saved).
    pub fn issued_ms(&self) -> i64 {
        self.issued_ms
    }

    /// Unwraps `EncryptedKeyMaterial`; the material must be `expected_len` bytes (32 for
    /// `Aliyun_AES_256`, 16 for `Aliyun_SM4`).
    pub fn unwrap_material(
        &self,
        encrypted: &[u8],
        expected_len: usize,
    ) -> Result<SecretBytes, KmsError> {
        let material = self
            .unwrap_raw(encrypted)
            .map_err(|_| KmsError::InvalidKeyMaterial)?;
        match material.len() == expected_len {
            true => Ok(material),
            false => Err(KmsError::InvalidKeyMaterial),
        }
    }

    fn unwrap_raw(&self, encrypted: &[u8]) -> Result<SecretBytes, KmsError> {
        let pkcs8 = self.pkcs8.expose_secret();
        let as_pair = |alg| SoftwarePair::from_pkcs8(self.spec, pkcs8)?.decrypt(alg, encrypted);
        match self.algorithm {
            WrappingAlgorithm::RsaesOaepSha256 => as_pair(EncryptAlgorithm::RsaesOaepSha256),
            WrappingAlgorithm::RsaesOaepSha1 => as_pair(EncryptAlgorithm::RsaesOaepSha1),
            WrappingAlgorithm::Sm2Pke => as_pair(EncryptAlgorithm::Sm2Pke),
            WrappingAlgorithm::RsaesPkcs1V15 => pkcs1_decrypt(pkcs8, encrypted),
        }
    }
}

/// RSAES-PKCS1-v1_5 decryption (aws-lc-rs). Every failure is the same error, and the caller
/// turns it into the one `InvalidKeyMaterial`, so the reply is no padding oracle beyond what
/// the algorithm itself gives.
fn pkcs1_decrypt(pkcs8: &[u8], encrypted: &[u8]) -> Result<SecretBytes, KmsError> {
    let private = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| KmsError::Corrupt)?;
    let key = Pkcs1PrivateDecryptingKey::new(private).map_err(|_| KmsError::Corrupt)?;
    let mut out = SecretBytes::zeroed(key.min_output_size());
    let len = key
        .decrypt(encrypted, out.expose_secret_mut())
        .map_err(|_| KmsError::InvalidKeyMaterial)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// `KeyMaterialExpireUnix` checked (§4.4): 0 is "never" (`None`); otherwise a time in
/// seconds after `now` and at most [`MAX_MATERIAL_EXPIRY`], else `InvalidParameter`.
pub fn material_expiry(value: i64, now: i64) -> Result<Option<i64>, KmsError> {
    match value {
        0 => Ok(None),
        v if v > now && v <= MAX_MATERIAL_EXPIRY => Ok(Some(v)),
        _ => Err(KmsError::invalid(
            crate::error::Field::KeyMaterialExpireUnix,
            crate::error::InvalidReason::OutOfRange,
        )),
    }
}

/// Whether two material fingerprints are equal, in time independent of where they differ.
pub fn same_fingerprint(stored: &[u8], fresh: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    stored.len() == fresh.len() && bool::from(stored.ct_eq(fresh))
}

#[cfg(test)]
mod tests {
    //! The material is wrapped the way Alibaba's documented procedure does it: OpenSSL
    //! `pkeyutl -encrypt` with the bare-DER public key GetParametersForImport returns.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::random::OsRandom;
    use crate::rootkey::RootKey;

    /// Now in milliseconds (tokens) and in seconds (material expiry).
    const NOW: i64 = 1_800_000_000_000;
    const NOW_S: i64 = NOW / 1000;

    fn root() -> RootKey {
        RootKey::generate(&OsRandom::new())
    }

    /// OpenSSL wraps `material` with the DER public key, with `-pkeyopt` options.
    fn openssl_wrap(public_der: &[u8], material: &[u8], opts: &[&str]) -> Vec<u8> {
        crate::openssl_test::pkeyutl(&["-encrypt", "-pubin"], public_der, material, opts)
    }

    #[test]
    fn material_wrapped_by_openssl_unwraps_for_every_algorithm() {
        let (root, rng) = (root(), OsRandom::new());
        let cases: [(WrappingAlgorithm, KeySpec, &[&str]); 4] = [
            (
                WrappingAlgorithm::RsaesOaepSha256,
                KeySpec::Rsa2048,
                &[
                    "rsa_padding_mode:oaep",
                    "rsa_oaep_md:sha256",
                    "rsa_mgf1_md:sha256",
                ],
            ),
            (
                WrappingAlgorithm::RsaesOaepSha1,
                KeySpec::Rsa2048,
                &["rsa_padding_mode:oaep", "rsa_oaep_md:sha1"],
            ),
            (
                WrappingAlgorithm::RsaesPkcs1V15,
                KeySpec::Rsa2048,
                &["rsa_padding_mode:pkcs1"],
            ),
            (WrappingAlgorithm::Sm2Pke, KeySpec::EcSm2, &[]),
        ];
        for (alg, spec, opts) in cases {
            let params = issue(&root, &rng, "key-1", alg, spec, NOW).unwrap();
            assert_eq!(params.expires_at, NOW_S + 86_400);
            let material = [0x3cu8; 32];
            let wrapped = openssl_wrap(&params.public_key_der, &material, opts);
            let token = open_token(&root, "key-1", &params.token, NOW + 10_000, 0).unwrap();
            assert_eq!(token.algorithm(), alg);
            let got = token.unwrap_material(&wrapped, 32).unwrap();
            assert!(got.ct_eq(&material), "{alg:?}");
            let short = token.unwrap_material(&wrapped, 16);
            assert!(matches!(short, Err(KmsError::InvalidKeyMaterial)));
        }
    }

    #[test]
    fn a_token_opens_only_for_its_key_its_root_and_its_day() {
        let (root, rng) = (root(), OsRandom::new());
        let alg = WrappingAlgorithm::RsaesOaepSha256;
        let params = issue(&root, &rng, "key-1", alg, KeySpec::Rsa2048, NOW).unwrap();
        let open = |r: &RootKey, key: &str, token: &str, now| open_token(r, key, token, now, NOW);
        assert!(open(&root, "key-1", &params.token, NOW + 86_399_999).is_ok());
        // Revoked: the key's tokens_not_before moved past the token's issue time.
        let revoked = open_token(&root, "key-1", &params.token, NOW + 5, NOW + 1);
        assert!(matches!(revoked, Err(KmsError::InvalidImportToken)));
        let other = open(&root, "key-2", &params.token, NOW);
        assert!(matches!(other, Err(KmsError::InvalidImportToken)));
        let elsewhere = open(&self::root(), "key-1", &params.token, NOW);
        assert!(matches!(elsewhere, Err(KmsError::InvalidImportToken)));
        let late = open(&root, "key-1", &params.token, NOW + 86_400_000);
        assert!(matches!(late, Err(KmsError::ExpiredImportToken)));
        let mut raw = B64.decode(&params.token).unwrap();
        raw[20] ^= 1;
        let damaged = open(&root, "key-1", &B64.encode(raw), NOW);
        assert!(matches!(damaged, Err(KmsError::InvalidImportToken)));
        assert!(matches!(
            open(&root, "key-1", "not base64!", NOW),
            Err(KmsError::InvalidImportToken)
        ));
    }

    #[test]
    fn every_call_makes_a_new_wrapping_key_and_refuses_misfits() {
        let (root, rng) = (root(), OsRandom::new());
        let alg = WrappingAlgorithm::RsaesOaepSha1;
        let a = issue(&root, &rng, "k", alg, KeySpec::Rsa2048, NOW).unwrap();
        let b = issue(&root, &rng, "k", alg, KeySpec::Rsa2048, NOW).unwrap();
        assert_ne!(a.public_key_der, b.public_key_der);
        assert_ne!(a.token, b.token);
        let sm2_with_rsa = issue(
            &root,
            &rng,
            "k",
            WrappingAlgorithm::Sm2Pke,
            KeySpec::Rsa2048,
            NOW,
        );
        assert!(matches!(sm2_with_rsa, Err(KmsError::UnsupportedOperation)));
        let rsa_with_sm2 = issue(&root, &rng, "k", alg, KeySpec::EcSm2, NOW);
        assert!(matches!(rsa_with_sm2, Err(KmsError::UnsupportedOperation)));
        assert_eq!(
            WrappingAlgorithm::parse("RSAES_PKCS1_V1_5"),
            Some(WrappingAlgorithm::RsaesPkcs1V15)
        );
        assert_eq!(WrappingAlgorithm::parse("RSAES_OAEP_SHA_512"), None);
    }

    #[test]
    fn material_expiry_is_zero_or_a_future_second_before_year_10000() {
        assert_eq!(material_expiry(0, NOW_S).unwrap(), None);
        assert_eq!(material_expiry(NOW_S + 1, NOW_S).unwrap(), Some(NOW_S + 1));
        let max = MAX_MATERIAL_EXPIRY;
        assert_eq!(material_expiry(max, NOW_S).unwrap(), Some(max));
        for bad in [-1, 1, NOW_S - 1, NOW_S, max + 1, i64::MAX, i64::MIN] {
            assert!(
                matches!(
                    material_expiry(bad, NOW_S),
                    Err(KmsError::InvalidParameter { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn fingerprints_are_keyed_per_key_and_compared_whole() {
        let rng = OsRandom::new();
        let (secret, other) = (
            crate::rootkey::CursorKey::generate(&rng),
            crate::rootkey::CursorKey::generate(&rng),
        );
        let a = secret.material_fingerprint("key-1", &[1; 32]);
        assert_eq!(a, secret.material_fingerprint("key-1", &[1; 32]));
        assert_ne!(a, secret.material_fingerprint("key-1", &[2; 32]));
        assert_ne!(a, secret.material_fingerprint("key-2", &[1; 32]));
        assert_ne!(a, other.material_fingerprint("key-1", &[1; 32]));
        assert!(same_fingerprint(&a, &a));
        assert!(!same_fingerprint(&a, &a[..31]));
        let mut b = a;
        b[31] ^= 1;
        assert!(!same_fingerprint(&a, &b));
    }
}
