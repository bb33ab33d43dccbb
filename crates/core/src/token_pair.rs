//! The host's share of key-pair operations whose private half lives in a hardware token (the
//! PKCS#11 provider of `ProtectionLevel=HSM` keys): the DER SubjectPublicKeyInfo built from the
//! components a token reports, the DigestInfo that RSASSA-PKCS1-v1_5 signs, and a token's raw
//! `r ‖ s` ECDSA signature as the DER the API returns.
//!
//! No private key is seen here: the token did the private-key operation. Encodings come from
//! aws-lc-rs (public keys) and [`crate::provider`]'s signature encoder (the same one software
//! secp256k1 keys use, so token signatures are low-S too). Decryption (OAEP) is the token's
//! alone: nothing of it is done on the host.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey};

use crate::asymmetric::{DIGEST_LEN, is_rsa, rsa_bytes, spec_of_public_key};
use crate::error::KmsError;
use crate::model::KeySpec;

/// The DER `DigestInfo` prefix of SHA-256 (RFC 8017 §9.2, note 1): what RSASSA-PKCS1-v1_5
/// signs is this followed by the 32-byte digest.
pub const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// `DigestInfo(SHA-256) ‖ digest`: the input of a raw PKCS#1 v1.5 signing mechanism.
pub fn pkcs1_sha256_input(digest: &[u8; DIGEST_LEN]) -> Vec<u8> {
    [&SHA256_DIGEST_INFO[..], &digest[..]].concat()
}

/// The DER SubjectPublicKeyInfo of an RSA public key of `spec` from its big-endian modulus and
/// exponent; `Corrupt` if they do not make a key of that size.
pub fn rsa_public_key_der(
    spec: KeySpec,
    modulus: &[u8],
    exponent: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let strip = |b: &[u8]| b[b.iter().position(|x| *x != 0).unwrap_or(b.len())..].to_vec();
    let (n, e) = (strip(modulus), strip(exponent));
    if !is_rsa(spec) || n.len() != rsa_bytes(spec) {
        return Err(KmsError::Corrupt);
    }
    let der = PublicKeyComponents { n, e }
        .as_der()
        .map_err(|_| KmsError::Corrupt)?;
    checked(spec, der.as_ref().to_vec())
}

/// The DER SubjectPublicKeyInfo of an `EC_P256` or `EC_P256K` public key from its point: the
/// uncompressed `04 ‖ x ‖ y`, bare or as the DER OCTET STRING PKCS#11 reports in
/// `CKA_EC_POINT`. The point must be on the curve.
pub fn ec_public_key_der(spec: KeySpec, point: &[u8]) -> Result<Vec<u8>, KmsError> {
    let point = match point {
        [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest,
        bare => bare,
    };
    let alg = match spec {
        KeySpec::EcP256 => &sig::ECDSA_P256_SHA256_ASN1,
        KeySpec::EcP256K => &sig::ECDSA_P256K1_SHA256_ASN1,
        _ => return Err(KmsError::Corrupt),
    };
    if point.len() != 65 || point[0] != 0x04 {
        return Err(KmsError::Corrupt);
    }
    let parsed = ParsedPublicKey::new(alg, point).map_err(|_| KmsError::Corrupt)?;
    let der = parsed.as_der().map_err(|_| KmsError::Corrupt)?;
    checked(spec, der.as_ref().to_vec())
}

/// `der` if it reads back as a public key of `spec` (the same check a stored key gets).
fn checked(spec: KeySpec, der: Vec<u8>) -> Result<Vec<u8>, KmsError> {
    match spec_of_public_key(&der) {
        Some(found) if found == spec => Ok(der),
        _ => Err(KmsError::Corrupt),
    }
}

/// A token's ECDSA signature `r ‖ s` (PKCS#11 `CKM_ECDSA` output) as DER `SEQUENCE{r,s}`,
/// low-S for `EC_P256K` like software keys' signatures.
pub fn ecdsa_signature_der(spec: KeySpec, fixed: &[u8]) -> Result<Vec<u8>, KmsError> {
    crate::provider::key_pair::fixed_signature_der(spec, fixed)
}

#[cfg(test)]
mod tests {
    //! The encodings checked against aws-lc-rs's own keys and signatures.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::asymmetric::{self, SignAlgorithm};
    use crate::provider::PrivateKey;
    use crate::provider::key_pair::{SoftwarePair, generate_pkcs8};
    use crate::random::OsRandom;

    #[test]
    fn public_keys_from_components_match_the_software_keys() {
        let rng = OsRandom::new();
        let pkcs8 = generate_pkcs8(KeySpec::Rsa2048, &rng).unwrap();
        let pair = SoftwarePair::from_pkcs8(KeySpec::Rsa2048, &pkcs8).unwrap();
        let public = aws_lc_rs::rsa::PublicEncryptingKey::from_der(pair.public_key_der()).unwrap();
        let parts = PublicKeyComponents::<Vec<u8>>::from(&public_key(&pkcs8));
        let padded_n = [&[0u8][..], &parts.n].concat();
        let der = rsa_public_key_der(KeySpec::Rsa2048, &padded_n, &parts.e).unwrap();
        assert_eq!(der, pair.public_key_der());
        assert_eq!(public.key_size_bytes(), 256);
        let wrong = rsa_public_key_der(KeySpec::Rsa3072, &parts.n, &parts.e);
        assert!(matches!(wrong, Err(KmsError::Corrupt)));
        for spec in [KeySpec::EcP256, KeySpec::EcP256K] {
            let pkcs8 = generate_pkcs8(spec, &rng).unwrap();
            let pair = SoftwarePair::from_pkcs8(spec, &pkcs8).unwrap();
            let spki = pair.public_key_der();
            let point = &spki[spki.len() - 65..];
            let wrapped = [&[0x04, 0x41][..], point].concat();
            assert_eq!(ec_public_key_der(spec, &wrapped).unwrap(), spki);
            assert_eq!(ec_public_key_der(spec, point).unwrap(), spki);
            let mut off_curve = point.to_vec();
            off_curve[64] ^= 1;
            let refused = ec_public_key_der(spec, &off_curve);
            assert!(matches!(refused, Err(KmsError::Corrupt)));
        }
    }

    fn public_key(pkcs8: &[u8]) -> aws_lc_rs::rsa::PublicKey {
        use aws_lc_rs::signature::KeyPair as _;
        let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(pkcs8).unwrap();
        pair.public_key().clone()
    }

    /// A fixed-form signature verifies as DER; secp256k1 ones come out low-S.
    #[test]
    fn fixed_ecdsa_signatures_become_der_that_verifies() {
        let rng = OsRandom::new();
        for spec in [KeySpec::EcP256, KeySpec::EcP256K] {
            let pkcs8 = generate_pkcs8(spec, &rng).unwrap();
            let pair = SoftwarePair::from_pkcs8(spec, &pkcs8).unwrap();
            let alg = match spec {
                KeySpec::EcP256 => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                _ => &sig::ECDSA_P256K1_SHA256_FIXED_SIGNING,
            };
            let signer = sig::EcdsaKeyPair::from_pkcs8(alg, &pkcs8).unwrap();
            let digest = [0x42; DIGEST_LEN];
            let d = asymmetric::sha256_digest(&digest).unwrap();
            let fixed = signer.sign_digest(&d).unwrap();
            let der = ecdsa_signature_der(spec, fixed.as_ref()).unwrap();
            let alg = SignAlgorithm::EcdsaSha256;
            let public = pair.public_key_der();
            assert!(asymmetric::verify(public, alg, spec, &digest, &der));
        }
        let refused = ecdsa_signature_der(KeySpec::EcP256, &[1; 63]);
        assert!(matches!(refused, Err(KmsError::Corrupt)));
    }

    #[test]
    fn pkcs1_input_is_digest_info_then_digest() {
        let input = pkcs1_sha256_input(&[7; DIGEST_LEN]);
        assert_eq!(input.len(), 51);
        assert_eq!(&input[..19], &SHA256_DIGEST_INFO);
        assert_eq!(&input[19..], &[7; DIGEST_LEN]);
    }
}
