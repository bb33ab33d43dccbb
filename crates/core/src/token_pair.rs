//! The host's share of key-pair operations whose private half lives in a hardware token (the
//! PKCS#11 provider of `ProtectionLevel=HSM` keys): the DER SubjectPublicKeyInfo built from the
//! components a token reports, the DigestInfo that RSASSA-PKCS1-v1_5 signs, a token's raw
//! `r ‖ s` ECDSA signature as the DER the API returns, and OAEP decoding of a raw RSA result
//! for tokens that decrypt OAEP only with SHA-1 (SoftHSM2).
//!
//! No private key is seen here: the token did the private-key operation. Encodings come from
//! aws-lc-rs (public keys) and [`crate::provider`]'s signature encoder (the same one software
//! secp256k1 keys use, so token signatures are low-S too). The OAEP decoding (RFC 8017
//! §7.1.2, step 3) runs in constant time over the encoded message with `subtle`, and every
//! failure is the one undetailed [`KmsError::InvalidCiphertext`], so that its answer tells an
//! attacker no more than whether the ciphertext was valid (no Manger oracle on the first byte).

use aws_lc_rs::digest::{self, Algorithm};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::asymmetric::{DIGEST_LEN, EncryptAlgorithm, is_rsa, rsa_bytes, spec_of_public_key};
use crate::error::KmsError;
use crate::model::KeySpec;
use crate::secret::SecretBytes;

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

/// The plaintext of an OAEP-encoded message `em` (the raw RSA decryption, `k` bytes for a
/// `k`-byte modulus) with the hash of `algorithm` for both the label and MGF1, empty label.
/// Every malformed encoding is [`KmsError::InvalidCiphertext`], found in constant time.
pub fn oaep_decode(algorithm: EncryptAlgorithm, em: &[u8]) -> Result<SecretBytes, KmsError> {
    let md: &'static Algorithm = match algorithm {
        EncryptAlgorithm::RsaesOaepSha256 => &digest::SHA256,
        EncryptAlgorithm::RsaesOaepSha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        EncryptAlgorithm::Sm2Pke => return Err(KmsError::UnsupportedOperation),
    };
    let h = md.output_len();
    if em.len() < 2 * h + 2 {
        return Err(KmsError::InvalidCiphertext);
    }
    let (masked_seed, masked_db) = em[1..].split_at(h);
    let mut seed = Zeroizing::new(masked_seed.to_vec());
    xor_mgf1(md, masked_db, &mut seed);
    let mut db = Zeroizing::new(masked_db.to_vec());
    xor_mgf1(md, &seed, &mut db);
    let label_hash = digest::digest(md, b"");
    let mut good = em[0].ct_eq(&0) & db[..h].ct_eq(label_hash.as_ref());
    let mut looking = Choice::from(1);
    let mut one_at = 0u32;
    for (i, byte) in db[h..].iter().enumerate() {
        let (zero, one) = (byte.ct_eq(&0), byte.ct_eq(&1));
        let i = u32::try_from(i).map_err(|_| KmsError::InvalidCiphertext)?;
        one_at.conditional_assign(&i, looking & one);
        good &= !(looking & !zero & !one);
        looking &= !one;
    }
    good &= !looking;
    if !bool::from(good) {
        return Err(KmsError::InvalidCiphertext);
    }
    let start = h + one_at as usize + 1;
    Ok(SecretBytes::new(db[start..].to_vec()))
}

/// `out ^= MGF1(seed)` (RFC 8017 B.2.1) with the hash `md`.
fn xor_mgf1(md: &'static Algorithm, seed: &[u8], out: &mut [u8]) {
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(md.output_len())) {
        let mut ctx = digest::Context::new(md);
        ctx.update(seed);
        ctx.update(&counter.to_be_bytes());
        let mask = ctx.finish();
        for (o, m) in chunk.iter_mut().zip(mask.as_ref()) {
            *o ^= m;
        }
    }
}

#[cfg(test)]
mod tests {
    //! OpenSSL (an independent implementation) does the raw RSA decryption of what aws-lc-rs
    //! sealed with OAEP; the decoder here must recover the plaintext, and refuse any change.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::asymmetric::{self, SignAlgorithm};
    use crate::provider::PrivateKey;
    use crate::provider::key_pair::{SoftwarePair, generate_pkcs8};
    use crate::random::OsRandom;

    fn raw_decrypt(pkcs8: &[u8], ciphertext: &[u8]) -> Vec<u8> {
        let opts = ["rsa_padding_mode:none"];
        crate::openssl_test::pkeyutl(&["-decrypt"], pkcs8, ciphertext, &opts)
    }

    #[test]
    fn oaep_decoding_of_raw_rsa_recovers_the_plaintext() {
        let rng = OsRandom::new();
        let pkcs8 = generate_pkcs8(KeySpec::Rsa2048, &rng).unwrap();
        let pair = SoftwarePair::from_pkcs8(KeySpec::Rsa2048, &pkcs8).unwrap();
        let algs = [
            EncryptAlgorithm::RsaesOaepSha256,
            EncryptAlgorithm::RsaesOaepSha1,
        ];
        for alg in algs {
            for len in [0, 1, 77, alg.max_plaintext(KeySpec::Rsa2048)] {
                let plain = vec![0x01; len];
                let public = pair.public_key_der();
                let ct = asymmetric::encrypt(public, alg, KeySpec::Rsa2048, &plain, &rng).unwrap();
                let em = raw_decrypt(&pkcs8, &ct);
                assert_eq!(em.len(), 256);
                assert!(
                    oaep_decode(alg, &em).unwrap().ct_eq(&plain),
                    "{alg:?} {len}"
                );
                let other = match alg {
                    EncryptAlgorithm::RsaesOaepSha1 => EncryptAlgorithm::RsaesOaepSha256,
                    _ => EncryptAlgorithm::RsaesOaepSha1,
                };
                let wrong = oaep_decode(other, &em);
                assert!(matches!(wrong, Err(KmsError::InvalidCiphertext)));
                for at in [0, 1, 40, 128, 255] {
                    let mut bad = em.clone();
                    bad[at] ^= 0x01;
                    let refused = oaep_decode(alg, &bad);
                    assert!(matches!(refused, Err(KmsError::InvalidCiphertext)), "{at}");
                }
            }
        }
        let short = oaep_decode(EncryptAlgorithm::RsaesOaepSha256, &[0; 65]);
        assert!(matches!(short, Err(KmsError::InvalidCiphertext)));
    }

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
