//! Key pairs: the signing and encryption algorithms of the asymmetric API (§3 of the
//! next-surfaces contract), which algorithm fits which [`KeySpec`], and everything that needs
//! only the public key: verifying a signature, encrypting, and the PEM of GetPublicKey.
//!
//! Private-key operations live behind the key provider's handle
//! ([`crate::provider::PrivateKey`]); this module never sees a private key. The crypto is
//! aws-lc-rs for RSA, P-256 and secp256k1, and RustCrypto `sm2` for SM2: no curve arithmetic
//! of our own. Every output is the standard encoding the SDKs and OpenSSL expect: raw k-byte
//! RSA signatures (PSS with MGF1-SHA-256 and a 32-byte salt), DER `SEQUENCE{r,s}` for ECDSA and
//! SM2, bare OAEP ciphertext (same hash for MGF1, empty label) and SM2 ciphertext as
//! `04 ‖ C1.x ‖ C1.y ‖ C3 ‖ C2` (GB/T 32918.4-2016 order, §3.6).
//!
//! Wire facts checked against client sources: the Go adapter `tw-bc-group/aliyun-kms`
//! (`sm2/sm2.go`, on `alibaba-cloud-sdk-go`) computes the SM2DSA `Digest` itself as
//! `SM3(Z ‖ M)` with tjfoc-gm's default ID `1234567812345678`, names the version from
//! `ListKeyVersions` (`KeyVersion[0]`), and reads AsymmetricVerify's `Value` as a Go `bool`;
//! the Tea model types it `bool` too (the e2e suite parses it so). The SM2PKE ciphertext layout
//! is *not* settled by any Alibaba source found: that client only round-trips through KMS. The
//! raw C1C3C2 form written here rests on the documented 6047/6144 limits (spec §8.1); input is
//! read leniently (DER `SM2Cipher` as OpenSSL writes it, or raw with or without `04`).

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm};
use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey};
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signature::hazmat::PrehashVerifier;
use sm2::pkcs8::DecodePublicKey;

use crate::error::{Field, InvalidReason, KmsError};
use crate::model::KeySpec;
use crate::random::SecureRandom;
use crate::shamir::Draw;

/// Length of every `Digest` the API signs: SHA-256 or SM3 output.
pub const DIGEST_LEN: usize = 32;

/// The SM2 distinguishing ID Alibaba's samples use for Z (GB/T 32918 default). The server
/// signs the caller's `SM3(Z ‖ M)` as given and never computes Z for a request; the ID is
/// needed only where a whole message is hashed (the CLI) and in the handle's construction.
pub const SM2_DISTID: &str = "1234567812345678";

/// Largest SM2PKE plaintext (§3.6: 6047 bytes, so the 97-byte overhead gives 6144).
pub const SM2_MAX_PLAINTEXT: usize = 6047;

/// Largest ciphertext AsymmetricDecrypt accepts: SM2's 6144 bytes plus room for the DER
/// form OpenSSL writes (at most 6158 for 6047 bytes, §3.6); RSA ciphertexts are smaller.
pub const MAX_CIPHERTEXT: usize = 6200;

/// A signing algorithm of AsymmetricSign and AsymmetricVerify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAlgorithm {
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, salt length 32.
    RsaPssSha256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the server adds the DigestInfo).
    RsaPkcs1Sha256,
    /// ECDSA over a SHA-256 digest (P-256 or secp256k1), DER signature.
    EcdsaSha256,
    /// SM2 signature over the caller's `SM3(Z ‖ M)`, DER signature.
    Sm2Dsa,
}

impl SignAlgorithm {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaPssSha256 => "RSA_PSS_SHA_256",
            Self::RsaPkcs1Sha256 => "RSA_PKCS1_SHA_256",
            Self::EcdsaSha256 => "ECDSA_SHA_256",
            Self::Sm2Dsa => "SM2DSA",
        }
    }

    /// Parses an API name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::RsaPssSha256,
            Self::RsaPkcs1Sha256,
            Self::EcdsaSha256,
            Self::Sm2Dsa,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// Whether keys of `spec` sign with this algorithm.
    pub fn fits(self, spec: KeySpec) -> bool {
        match self {
            Self::RsaPssSha256 | Self::RsaPkcs1Sha256 => is_rsa(spec),
            Self::EcdsaSha256 => matches!(spec, KeySpec::EcP256 | KeySpec::EcP256K),
            Self::Sm2Dsa => spec == KeySpec::EcSm2,
        }
    }
}

/// An encryption algorithm of AsymmetricEncrypt and AsymmetricDecrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptAlgorithm {
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label.
    RsaesOaepSha256,
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1, empty label.
    RsaesOaepSha1,
    /// SM2 public-key encryption (GB/T 32918.4).
    Sm2Pke,
}

impl EncryptAlgorithm {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
            Self::RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
            Self::Sm2Pke => "SM2PKE",
        }
    }

    /// Parses an API name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::RsaesOaepSha256, Self::RsaesOaepSha1, Self::Sm2Pke]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    /// Whether keys of `spec` encrypt with this algorithm.
    pub fn fits(self, spec: KeySpec) -> bool {
        match self {
            Self::RsaesOaepSha256 | Self::RsaesOaepSha1 => is_rsa(spec),
            Self::Sm2Pke => spec == KeySpec::EcSm2,
        }
    }

    /// The largest plaintext for a key of `spec`: k − 2·hLen − 2 for OAEP (190/214 bytes for
    /// RSA_2048), 6047 for SM2 (§3.6).
    pub fn max_plaintext(self, spec: KeySpec) -> usize {
        let k = rsa_bytes(spec);
        match self {
            Self::RsaesOaepSha256 => k.saturating_sub(2 * 32 + 2),
            Self::RsaesOaepSha1 => k.saturating_sub(2 * 20 + 2),
            Self::Sm2Pke => SM2_MAX_PLAINTEXT,
        }
    }

    /// The aws-lc-rs OAEP parameters, for the RSA algorithms.
    pub(crate) fn oaep(self) -> Option<&'static OaepAlgorithm> {
        match self {
            Self::RsaesOaepSha256 => Some(&OAEP_SHA256_MGF1SHA256),
            Self::RsaesOaepSha1 => Some(&OAEP_SHA1_MGF1SHA1),
            Self::Sm2Pke => None,
        }
    }
}

/// Whether `spec` is an RSA spec.
pub fn is_rsa(spec: KeySpec) -> bool {
    matches!(spec, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
}

/// The modulus length in bytes of an RSA spec (0 for others).
pub fn rsa_bytes(spec: KeySpec) -> usize {
    match spec {
        KeySpec::Rsa2048 => 256,
        KeySpec::Rsa3072 => 384,
        KeySpec::Rsa4096 => 512,
        _ => 0,
    }
}

/// The 32-byte digest of a request, or `InvalidParameter` on `Digest` if it is not 32 bytes.
pub fn digest_of(bytes: &[u8]) -> Result<[u8; DIGEST_LEN], KmsError> {
    bytes
        .try_into()
        .map_err(|_| KmsError::invalid(Field::Digest, InvalidReason::BadFormat))
}

/// An aws-lc-rs SHA-256 [`Digest`] holding exactly the caller's bytes (never re-hashed).
pub(crate) fn sha256_digest(digest: &[u8; DIGEST_LEN]) -> Result<Digest, KmsError> {
    Digest::import_less_safe(digest, &digest::SHA256).map_err(|_| KmsError::Corrupt)
}

/// Whether `signature` is a valid signature by the key `spki_der` (DER SubjectPublicKeyInfo)
/// over `digest`. Any malformed signature is simply `false`.
pub fn verify(
    spki_der: &[u8],
    algorithm: SignAlgorithm,
    spec: KeySpec,
    digest: &[u8; DIGEST_LEN],
    signature: &[u8],
) -> bool {
    match algorithm {
        SignAlgorithm::Sm2Dsa => verify_sm2(spki_der, digest, signature),
        _ => match (verifier(algorithm, spec), sha256_digest(digest)) {
            (Some(alg), Ok(d)) => UnparsedPublicKey::new(alg, spki_der)
                .verify_digest(&d, signature)
                .is_ok(),
            _ => false,
        },
    }
}

fn verifier(algorithm: SignAlgorithm, spec: KeySpec) -> Option<&'static dyn VerificationAlgorithm> {
    let alg: &'static dyn VerificationAlgorithm = match (algorithm, spec) {
        (SignAlgorithm::RsaPssSha256, _) => &sig::RSA_PSS_2048_8192_SHA256,
        (SignAlgorithm::RsaPkcs1Sha256, _) => &sig::RSA_PKCS1_2048_8192_SHA256,
        (SignAlgorithm::EcdsaSha256, KeySpec::EcP256) => &sig::ECDSA_P256_SHA256_ASN1,
        (SignAlgorithm::EcdsaSha256, KeySpec::EcP256K) => &sig::ECDSA_P256K1_SHA256_ASN1,
        _ => return None,
    };
    Some(alg)
}

fn verify_sm2(spki_der: &[u8], digest: &[u8; DIGEST_LEN], signature: &[u8]) -> bool {
    let Ok(public) = sm2::PublicKey::from_public_key_der(spki_der) else {
        return false;
    };
    let Ok(key) = sm2::dsa::VerifyingKey::new(SM2_DISTID, public) else {
        return false;
    };
    match sm2::dsa::Signature::from_der(signature) {
        Ok(s) => key.verify_prehash(digest, &s).is_ok(),
        Err(_) => false,
    }
}

/// Encrypts `plaintext` to the key `spki_der`; the bare standard ciphertext. A plaintext over
/// [`EncryptAlgorithm::max_plaintext`] is `InvalidParameter` on `Plaintext`.
pub fn encrypt(
    spki_der: &[u8],
    algorithm: EncryptAlgorithm,
    spec: KeySpec,
    plaintext: &[u8],
    rng: &dyn SecureRandom,
) -> Result<Vec<u8>, KmsError> {
    let max = algorithm.max_plaintext(spec);
    if plaintext.len() > max {
        let reason = InvalidReason::TooLong { max };
        return Err(KmsError::invalid(Field::Plaintext, reason));
    }
    match algorithm.oaep() {
        Some(oaep) => encrypt_oaep(spki_der, oaep, plaintext),
        None => encrypt_sm2(spki_der, plaintext, rng),
    }
}

fn encrypt_oaep(
    spki_der: &[u8],
    oaep: &'static OaepAlgorithm,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let public = PublicEncryptingKey::from_der(spki_der).map_err(|_| KmsError::Corrupt)?;
    let key = OaepPublicEncryptingKey::new(public).map_err(|_| KmsError::Corrupt)?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(oaep, plaintext, &mut out, None)
        .map_err(|_| KmsError::Corrupt)?
        .len();
    out.truncate(len);
    Ok(out)
}

fn encrypt_sm2(
    spki_der: &[u8],
    plaintext: &[u8],
    rng: &dyn SecureRandom,
) -> Result<Vec<u8>, KmsError> {
    let public = sm2::PublicKey::from_public_key_der(spki_der).map_err(|_| KmsError::Corrupt)?;
    let key = sm2::pke::EncryptingKey::new_with_mode(public, sm2::pke::Mode::C1C3C2);
    key.encrypt(&mut Draw(rng), plaintext)
        .map_err(|_| KmsError::Corrupt)
}

/// GB/T 32918.5 curve constants that enter Z (hashed, never computed with).
const SM2_A: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
const SM2_B: &str = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
const SM2_GX: &str = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
const SM2_GY: &str = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";

/// The SM2 `Z_A` of a public key (DER SubjectPublicKeyInfo) with the default ID:
/// `SM3(ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)`. A caller (the CLI's sign-file) signs
/// `SM3(Z_A ‖ M)`; the server itself never computes Z. `None` if the key is not SM2.
pub fn sm2_z(spki_der: &[u8]) -> Option<[u8; DIGEST_LEN]> {
    use sm3::Digest as _;
    let public = sm2::PublicKey::from_public_key_der(spki_der).ok()?;
    let point = public.to_sec1_bytes();
    let xy = point.get(1..65)?;
    let mut h = sm3::Sm3::new();
    h.update(((SM2_DISTID.len() * 8) as u16).to_be_bytes());
    h.update(SM2_DISTID.as_bytes());
    for constant in [SM2_A, SM2_B, SM2_GX, SM2_GY] {
        h.update(unhex(constant));
    }
    h.update(xy);
    Some(h.finalize().into())
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The PEM of a DER SubjectPublicKeyInfo as GetPublicKey returns it: `PUBLIC KEY` armour,
/// 64-character lines joined by `\n`, and a trailing `\n` (§3.3).
pub fn public_key_pem(spki_der: &[u8]) -> String {
    let body = B64.encode(spki_der);
    let mut pem = String::with_capacity(body.len() + body.len() / 64 + 60);
    pem.push_str("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is a valid str.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn algorithms_fit_their_specs_only() {
        assert!(SignAlgorithm::RsaPssSha256.fits(KeySpec::Rsa3072));
        assert!(!SignAlgorithm::EcdsaSha256.fits(KeySpec::EcSm2));
        assert!(SignAlgorithm::EcdsaSha256.fits(KeySpec::EcP256K));
        assert!(!SignAlgorithm::Sm2Dsa.fits(KeySpec::EcP256));
        assert!(!EncryptAlgorithm::Sm2Pke.fits(KeySpec::Rsa2048));
        assert!(!EncryptAlgorithm::RsaesOaepSha1.fits(KeySpec::AliyunAes256));
    }

    #[test]
    fn plaintext_limits_are_the_documented_ones() {
        let sha256 = EncryptAlgorithm::RsaesOaepSha256;
        let sha1 = EncryptAlgorithm::RsaesOaepSha1;
        assert_eq!(sha256.max_plaintext(KeySpec::Rsa2048), 190);
        assert_eq!(sha1.max_plaintext(KeySpec::Rsa2048), 214);
        assert_eq!(sha256.max_plaintext(KeySpec::Rsa3072), 318);
        assert_eq!(sha1.max_plaintext(KeySpec::Rsa3072), 342);
        assert_eq!(EncryptAlgorithm::Sm2Pke.max_plaintext(KeySpec::EcSm2), 6047);
    }

    #[test]
    fn pem_has_64_character_lines_and_a_trailing_newline() {
        let pem = public_key_pem(&[7u8; 294]);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("\n-----END PUBLIC KEY-----\n"));
        let lines: Vec<&str> = pem.lines().collect();
        assert!(lines[1..lines.len() - 2].iter().all(|l| l.len() == 64));
    }

    /// The §3.4 SM2 vector: OpenSSL's signature over `e = SM3(Z ‖ "this is message")`.
    #[test]
    fn sm2_vector_of_the_contract_verifies() {
        let pem = "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEK4hNcsoh+l1RvUZaAnNEXOmFc3xS\
                   2dG3cHrRSzYReAIDB3Oltbf3LxgFig07eZfKFjAmZRdgqOCe9mHu9fmp3Q==";
        let spki = B64.decode(pem).unwrap();
        let digest = B64
            .decode("WLkb4sm2OvCQXuKJbFrUQ+XC26CkiHM86I5Id96Hiow=")
            .unwrap();
        let value = B64.decode("MEUCIFmCG3yC7yrCUwJRNAgmIos6opRgJacAqtD3ClJ1d8u1AiEAyVUJtXU/J8iHu8y+6wxFvCsKfot02eFHE03vLHYDz+0=").unwrap();
        let z = sm2_z(&spki).unwrap();
        let z_hex: String = z.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            z_hex,
            "f6713a71d07928304239c584bc5e941d19372cc68de667f23bcb296c60655a6a"
        );
        let d = digest_of(&digest).unwrap();
        assert!(verify(
            &spki,
            SignAlgorithm::Sm2Dsa,
            KeySpec::EcSm2,
            &d,
            &value
        ));
        let mut flipped = d;
        flipped[0] ^= 1;
        assert!(!verify(
            &spki,
            SignAlgorithm::Sm2Dsa,
            KeySpec::EcSm2,
            &flipped,
            &value
        ));
    }
}
