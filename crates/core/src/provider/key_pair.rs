//! Software key pairs: generating a private key as PKCS#8, and the in-memory handle
//! ([`PrivateKey`]) that signs and decrypts with it.
//!
//! The PKCS#8 bytes exist only in wiping buffers, between generation and the root-key wrap,
//! and between the unwrap and parsing; the parsed keys live inside aws-lc-rs (which frees
//! them with `EVP_PKEY_free`, clearing RSA and EC private values) or, for SM2, in an
//! `sm2::SecretKey` (which zeroizes on drop). `sm2`'s signing and decrypting handles hold a
//! `Copy` scalar that is NOT zeroized (and `DecryptingKey`'s `Debug` prints it), so they are
//! built for one operation and dropped at its end, never kept (review finding 4). This module
//! does not wrap or store anything; the software provider does.
//!
//! secp256k1 signatures are low-S normalised (`s ≤ n/2`, BIP-62 / EIP-2), because that
//! curve's users (Bitcoin, Ethereum) reject high-S signatures. Alibaba's documentation says
//! nothing about S for `EC_P256K` (unverified); both forms verify under plain ECDSA, so the
//! normalised one is the safe choice. `EC_P256` signatures are left as aws-lc-rs makes them.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::PrivateDecryptingKey;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, OaepPrivateDecryptingKey};
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair as _};
use signature::hazmat::PrehashSigner;
use sm2::elliptic_curve::Generate;
use sm2::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use zeroize::Zeroizing;

use super::PrivateKey;
use crate::asymmetric::{
    DIGEST_LEN, EncryptAlgorithm, SM2_DISTID, SignAlgorithm, is_rsa, rsa_bytes, sha256_digest,
};
use crate::error::KmsError;
use crate::model::KeySpec;
use crate::random::SecureRandom;
use crate::secret::SecretBytes;
use crate::shamir::Draw;

/// A fresh private key of `spec` as PKCS#8 DER, in a wiping buffer.
pub(crate) fn generate_pkcs8(
    spec: KeySpec,
    rng: &dyn SecureRandom,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let der = match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            let pair = RsaKeyPair::generate(rsa_size(spec)?).map_err(|_| KmsError::Corrupt)?;
            let der = pair.as_der().map_err(|_| KmsError::Corrupt)?;
            Zeroizing::new(der.as_ref().to_vec())
        }
        KeySpec::EcP256 | KeySpec::EcP256K => {
            let pair = EcdsaKeyPair::generate(ecdsa_alg(spec)?).map_err(|_| KmsError::Corrupt)?;
            let doc = pair.to_pkcs8v1().map_err(|_| KmsError::Corrupt)?;
            Zeroizing::new(doc.as_ref().to_vec())
        }
        KeySpec::EcSm2 => {
            let secret = sm2::SecretKey::generate_from_rng(&mut Draw(rng));
            let doc = secret.to_pkcs8_der().map_err(|_| KmsError::Corrupt)?;
            Zeroizing::new(doc.as_bytes().to_vec())
        }
        KeySpec::AliyunAes256 | KeySpec::AliyunSm4 => return Err(KmsError::Corrupt),
    };
    Ok(der)
}

fn rsa_size(spec: KeySpec) -> Result<KeySize, KmsError> {
    match spec {
        KeySpec::Rsa2048 => Ok(KeySize::Rsa2048),
        KeySpec::Rsa3072 => Ok(KeySize::Rsa3072),
        KeySpec::Rsa4096 => Ok(KeySize::Rsa4096),
        _ => Err(KmsError::Corrupt),
    }
}

fn ecdsa_alg(spec: KeySpec) -> Result<&'static EcdsaSigningAlgorithm, KmsError> {
    match spec {
        KeySpec::EcP256 => Ok(&sig::ECDSA_P256_SHA256_ASN1_SIGNING),
        KeySpec::EcP256K => Ok(&sig::ECDSA_P256K1_SHA256_ASN1_SIGNING),
        _ => Err(KmsError::Corrupt),
    }
}

/// A loaded software key pair. No `Debug`: it holds a private key.
pub(crate) struct SoftwarePair {
    spec: KeySpec,
    public_der: Vec<u8>,
    inner: Inner,
}

enum Inner {
    Rsa {
        sign: RsaKeyPair,
        decrypt: OaepPrivateDecryptingKey,
    },
    Ecdsa(EcdsaKeyPair),
    /// secp256k1, signing `r ‖ s` so that `s` can be normalised before DER encoding.
    EcdsaLowS(EcdsaKeyPair),
    Sm2(Box<sm2::SecretKey>),
}

impl SoftwarePair {
    /// Parses PKCS#8 DER as a key of `spec`; anything else (another spec or size, damaged
    /// bytes) is [`KmsError::Corrupt`].
    pub(crate) fn from_pkcs8(spec: KeySpec, der: &[u8]) -> Result<Self, KmsError> {
        let (inner, public_der) = match spec {
            _ if is_rsa(spec) => rsa_from_pkcs8(spec, der)?,
            KeySpec::EcP256 => {
                let pair = ecdsa_from_pkcs8(ecdsa_alg(spec)?, der)?;
                (Inner::Ecdsa(pair.0), pair.1)
            }
            KeySpec::EcP256K => {
                let pair = ecdsa_from_pkcs8(&sig::ECDSA_P256K1_SHA256_FIXED_SIGNING, der)?;
                (Inner::EcdsaLowS(pair.0), pair.1)
            }
            KeySpec::EcSm2 => sm2_from_pkcs8(der)?,
            _ => return Err(KmsError::Corrupt),
        };
        Ok(Self {
            spec,
            public_der,
            inner,
        })
    }
}

fn rsa_from_pkcs8(spec: KeySpec, der: &[u8]) -> Result<(Inner, Vec<u8>), KmsError> {
    let sign = RsaKeyPair::from_pkcs8(der).map_err(|_| KmsError::Corrupt)?;
    if sign.public_modulus_len() != rsa_bytes(spec) {
        return Err(KmsError::Corrupt);
    }
    let private = PrivateDecryptingKey::from_pkcs8(der).map_err(|_| KmsError::Corrupt)?;
    let decrypt = OaepPrivateDecryptingKey::new(private).map_err(|_| KmsError::Corrupt)?;
    let public = sign.public_key().as_der().map_err(|_| KmsError::Corrupt)?;
    let public = public.as_ref().to_vec();
    Ok((Inner::Rsa { sign, decrypt }, public))
}

fn ecdsa_from_pkcs8(
    alg: &'static EcdsaSigningAlgorithm,
    der: &[u8],
) -> Result<(EcdsaKeyPair, Vec<u8>), KmsError> {
    let pair = EcdsaKeyPair::from_pkcs8(alg, der).map_err(|_| KmsError::Corrupt)?;
    let public = pair.public_key().as_der().map_err(|_| KmsError::Corrupt)?;
    let public = public.as_ref().to_vec();
    Ok((pair, public))
}

fn sm2_from_pkcs8(der: &[u8]) -> Result<(Inner, Vec<u8>), KmsError> {
    let secret = sm2::SecretKey::from_pkcs8_der(der).map_err(|_| KmsError::Corrupt)?;
    let public = secret
        .public_key()
        .to_public_key_der()
        .map_err(|_| KmsError::Corrupt)?;
    Ok((Inner::Sm2(Box::new(secret)), public.as_bytes().to_vec()))
}

/// The order n of secp256k1, big-endian.
const SECP256K1_N: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
];
/// ⌊n/2⌋ of secp256k1: the largest low `s`.
const SECP256K1_HALF_N: [u8; 32] = [
    0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4, 0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0,
];

/// A secp256k1 signature `r ‖ s` (32 bytes each) as DER `SEQUENCE{r,s}` with `s ≤ n/2`
/// (`s` replaced by `n − s` when above).
fn low_s_der(fixed: &[u8]) -> Result<Vec<u8>, KmsError> {
    let (r, s) = fixed.split_at_checked(32).ok_or(KmsError::Corrupt)?;
    let mut s: [u8; 32] = s.try_into().map_err(|_| KmsError::Corrupt)?;
    if s > SECP256K1_HALF_N {
        s = sub_be(&SECP256K1_N, &s);
    }
    sequence_der(r, &s)
}

/// An ECDSA signature `r ‖ s` made elsewhere (a token) as the DER `SEQUENCE{r,s}` this module
/// returns: low-S for secp256k1, as it is for software keys; as made for P-256.
pub(crate) fn fixed_signature_der(spec: KeySpec, fixed: &[u8]) -> Result<Vec<u8>, KmsError> {
    match spec {
        KeySpec::EcP256K => low_s_der(fixed),
        KeySpec::EcP256 if fixed.len() == 64 => sequence_der(&fixed[..32], &fixed[32..]),
        _ => Err(KmsError::Corrupt),
    }
}

/// DER `SEQUENCE{r,s}` of two unsigned big-endian 32-byte integers.
fn sequence_der(r: &[u8], s: &[u8]) -> Result<Vec<u8>, KmsError> {
    let (r, s) = (der_integer(r), der_integer(s));
    let mut out = vec![
        0x30,
        u8::try_from(r.len() + s.len()).map_err(|_| KmsError::Corrupt)?,
    ];
    out.extend_from_slice(&r);
    out.extend_from_slice(&s);
    Ok(out)
}

/// `a − b` for big-endian 256-bit numbers with `a ≥ b`.
fn sub_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

/// A DER INTEGER (tag, short length, minimal positive content) of the unsigned big-endian
/// `value` (at most 32 bytes).
fn der_integer(value: &[u8]) -> Vec<u8> {
    let start = value.iter().position(|b| *b != 0).unwrap_or(value.len());
    let digits = match &value[start..] {
        [] => &[0u8][..],
        d => d,
    };
    let pad = usize::from(digits[0] & 0x80 != 0);
    let mut out = Vec::with_capacity(2 + pad + digits.len());
    out.push(0x02);
    out.push((pad + digits.len()) as u8);
    if pad == 1 {
        out.push(0);
    }
    out.extend_from_slice(digits);
    out
}

impl PrivateKey for SoftwarePair {
    fn spec(&self) -> KeySpec {
        self.spec
    }

    fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    /// P-256 ECDSA (aws-lc-rs, assembly) takes about 16 µs; secp256k1 (about 240 µs in
    /// aws-lc-rs, which has no fast path for it), RSA and SM2 take hundreds.
    fn signs_inline(&self) -> bool {
        matches!(self.inner, Inner::Ecdsa(_))
    }

    fn sign(
        &self,
        algorithm: SignAlgorithm,
        digest: &[u8; DIGEST_LEN],
    ) -> Result<Vec<u8>, KmsError> {
        match (&self.inner, algorithm) {
            (Inner::Rsa { sign, .. }, SignAlgorithm::RsaPssSha256) => {
                rsa_sign(sign, &sig::RSA_PSS_SHA256, digest)
            }
            (Inner::Rsa { sign, .. }, SignAlgorithm::RsaPkcs1Sha256) => {
                rsa_sign(sign, &sig::RSA_PKCS1_SHA256, digest)
            }
            (Inner::Ecdsa(pair), SignAlgorithm::EcdsaSha256) => {
                let signature = pair
                    .sign_digest(&sha256_digest(digest)?)
                    .map_err(|_| KmsError::Corrupt)?;
                Ok(signature.as_ref().to_vec())
            }
            (Inner::EcdsaLowS(pair), SignAlgorithm::EcdsaSha256) => {
                let fixed = pair
                    .sign_digest(&sha256_digest(digest)?)
                    .map_err(|_| KmsError::Corrupt)?;
                low_s_der(fixed.as_ref())
            }
            (Inner::Sm2(secret), SignAlgorithm::Sm2Dsa) => {
                let sign =
                    sm2::dsa::SigningKey::new(SM2_DISTID, secret).map_err(|_| KmsError::Corrupt)?;
                let signature = sign.sign_prehash(digest).map_err(|_| KmsError::Corrupt)?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            _ => Err(KmsError::UnsupportedOperation),
        }
    }

    fn decrypt(
        &self,
        algorithm: EncryptAlgorithm,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, KmsError> {
        match (&self.inner, algorithm.oaep()) {
            (Inner::Rsa { decrypt, .. }, Some(oaep)) => {
                let mut out = SecretBytes::zeroed(decrypt.min_output_size());
                let len = decrypt
                    .decrypt(oaep, ciphertext, out.expose_secret_mut(), None)
                    .map_err(|_| KmsError::InvalidCiphertext)?
                    .len();
                out.truncate(len);
                Ok(out)
            }
            (Inner::Sm2(secret), None) => {
                let mode = sm2::pke::Mode::C1C3C2;
                let key = sm2::pke::DecryptingKey::new_with_mode(secret.to_nonzero_scalar(), mode);
                sm2_decrypt(&key, ciphertext)
            }
            _ => Err(KmsError::UnsupportedOperation),
        }
    }
}

fn rsa_sign(
    pair: &RsaKeyPair,
    padding: &'static dyn sig::RsaEncoding,
    digest: &[u8; DIGEST_LEN],
) -> Result<Vec<u8>, KmsError> {
    let mut out = vec![0u8; pair.public_modulus_len()];
    pair.sign_digest(padding, &sha256_digest(digest)?, &mut out)
        .map_err(|_| KmsError::Corrupt)?;
    Ok(out)
}

/// SM2 decryption, lenient on input (§3.6): DER `SM2Cipher` (what OpenSSL writes), raw
/// `04 ‖ C1 ‖ C3 ‖ C2`, or the same without the leading `04`. The forms overlap (an
/// unprefixed ciphertext whose C1.x starts with `04`, one in 256), so a ciphertext starting
/// with `04` is tried as prefixed first and, if that fails, as unprefixed (review finding
/// 12); C3 tells the right reading from a wrong one.
fn sm2_decrypt(key: &sm2::pke::DecryptingKey, ciphertext: &[u8]) -> Result<SecretBytes, KmsError> {
    if ciphertext.first() == Some(&0x30)
        && let Ok(plain) = key.decrypt_der(ciphertext)
    {
        return Ok(SecretBytes::new(plain));
    }
    if ciphertext.first() == Some(&0x04)
        && let Ok(plain) = key.decrypt(ciphertext)
    {
        return Ok(SecretBytes::new(plain));
    }
    let mut prefixed = Vec::with_capacity(ciphertext.len() + 1);
    prefixed.push(0x04);
    prefixed.extend_from_slice(ciphertext);
    key.decrypt(&prefixed)
        .map(SecretBytes::new)
        .map_err(|_| KmsError::InvalidCiphertext)
}

#[cfg(test)]
mod tests {
    //! The private key is known here, so what the public key encrypted is opened by OpenSSL
    //! (an independent implementation), and OpenSSL's signatures of the same digest verify.
    #![allow(clippy::unwrap_used)]

    use sm2::pkcs8::der::Encode;

    use super::*;
    use crate::asymmetric;
    use crate::random::OsRandom;

    /// `openssl pkeyutl -decrypt` of `ciphertext` with the PKCS#8 DER key `pkcs8`.
    fn openssl_decrypt(pkcs8: &[u8], ciphertext: &[u8], opts: &[&str]) -> Vec<u8> {
        crate::openssl_test::pkeyutl(&["-decrypt"], pkcs8, ciphertext, opts)
    }

    #[test]
    fn openssl_opens_what_rsa_oaep_sealed() {
        let rng = OsRandom::new();
        let pkcs8 = generate_pkcs8(KeySpec::Rsa2048, &rng).unwrap();
        let pair = SoftwarePair::from_pkcs8(KeySpec::Rsa2048, &pkcs8).unwrap();
        let cases = [
            (EncryptAlgorithm::RsaesOaepSha256, "sha256"),
            (EncryptAlgorithm::RsaesOaepSha1, "sha1"),
        ];
        for (alg, md) in cases {
            let plain = b"offline decryption of AsymmetricEncrypt output";
            let ct = asymmetric::encrypt(pair.public_key_der(), alg, KeySpec::Rsa2048, plain, &rng)
                .unwrap();
            let opts = [
                "rsa_padding_mode:oaep",
                &format!("rsa_oaep_md:{md}"),
                &format!("rsa_mgf1_md:{md}"),
            ];
            assert_eq!(openssl_decrypt(&pkcs8, &ct, &opts), plain);
        }
    }

    #[test]
    fn openssl_opens_what_sm2_sealed() {
        let rng = OsRandom::new();
        let pkcs8 = generate_pkcs8(KeySpec::EcSm2, &rng).unwrap();
        let pair = SoftwarePair::from_pkcs8(KeySpec::EcSm2, &pkcs8).unwrap();
        let plain = b"SM2PKE, raw 04 || C1 || C3 || C2 on the wire";
        let alg = EncryptAlgorithm::Sm2Pke;
        let raw =
            asymmetric::encrypt(pair.public_key_der(), alg, KeySpec::EcSm2, plain, &rng).unwrap();
        assert_eq!((raw.len(), raw[0]), (97 + plain.len(), 4));
        // OpenSSL reads the ASN.1 SM2Cipher; the same four fields, re-encoded.
        let cipher =
            sm2::pke::Cipher::<sm2::Sm2, sm3::Sm3>::from_slice(&raw, sm2::pke::Mode::C1C3C2)
                .unwrap();
        let der = cipher.to_der().unwrap();
        assert_eq!(openssl_decrypt(&pkcs8, &der, &[]), plain);
        assert!(pair.decrypt(alg, &der).unwrap().ct_eq(plain));
    }

    /// Only P-256 signs on the async worker; every slower pair (RSA, secp256k1, SM2) asks
    /// for the blocking lane.
    #[test]
    fn only_p256_signs_inline() {
        let rng = OsRandom::new();
        for spec in [
            KeySpec::Rsa2048,
            KeySpec::EcP256,
            KeySpec::EcP256K,
            KeySpec::EcSm2,
        ] {
            let pkcs8 = generate_pkcs8(spec, &rng).unwrap();
            let pair = SoftwarePair::from_pkcs8(spec, &pkcs8).unwrap();
            assert_eq!(pair.signs_inline(), spec == KeySpec::EcP256, "{spec:?}");
        }
    }

    /// secp256k1 signatures are low-S (review finding 7) and still verify; P-256 ones verify.
    #[test]
    fn secp256k1_signatures_are_low_s() {
        let rng = OsRandom::new();
        let pkcs8 = generate_pkcs8(KeySpec::EcP256K, &rng).unwrap();
        let pair = SoftwarePair::from_pkcs8(KeySpec::EcP256K, &pkcs8).unwrap();
        for i in 0..64u8 {
            let digest = [i; 32];
            let der = pair.sign(SignAlgorithm::EcdsaSha256, &digest).unwrap();
            let alg = SignAlgorithm::EcdsaSha256;
            let public = pair.public_key_der();
            assert!(asymmetric::verify(
                public,
                alg,
                KeySpec::EcP256K,
                &digest,
                &der
            ));
            let s = der_s(&der);
            assert!(s.len() < 32 || (s.len() == 32 && s.as_slice() <= &SECP256K1_HALF_N[..]));
        }
    }

    /// The `s` of a DER `SEQUENCE{r,s}`, without leading zero bytes.
    fn der_s(der: &[u8]) -> Vec<u8> {
        let r_len = usize::from(der[3]);
        let s_at = 4 + r_len;
        let s = &der[s_at + 2..s_at + 2 + usize::from(der[s_at + 1])];
        s.iter().skip_while(|b| **b == 0).copied().collect()
    }

    /// A high `s` becomes `n − s`; the DER integers are minimal and positive.
    #[test]
    fn low_s_normalises_and_encodes() {
        let mut fixed = [0u8; 64];
        fixed[0] = 0x80; // r with the high bit set: a 0x00 pad byte
        fixed[32..].copy_from_slice(&SECP256K1_N);
        fixed[63] -= 1; // s = n − 1, high
        let der = low_s_der(&fixed).unwrap();
        let mut want = vec![0x30, 0x26, 0x02, 0x21, 0x00, 0x80];
        want.extend_from_slice(&[0u8; 31]);
        want.extend_from_slice(&[0x02, 0x01, 0x01]);
        assert_eq!(der, want);
        let mut low = [0u8; 64];
        low[31] = 1;
        low[32..].copy_from_slice(&SECP256K1_HALF_N);
        let der = low_s_der(&low).unwrap();
        assert_eq!(&der[2..5], &[0x02, 0x01, 0x01]);
        assert_eq!(&der[5..7], &[0x02, 0x20]);
        assert_eq!(&der[7..], &SECP256K1_HALF_N[..]);
    }

    /// Review finding 12: an unprefixed SM2 ciphertext whose C1.x starts with 04 decrypts.
    #[test]
    fn sm2_unprefixed_ciphertext_starting_with_04_decrypts() {
        let rng = OsRandom::new();
        let pkcs8 = generate_pkcs8(KeySpec::EcSm2, &rng).unwrap();
        let pair = SoftwarePair::from_pkcs8(KeySpec::EcSm2, &pkcs8).unwrap();
        let alg = EncryptAlgorithm::Sm2Pke;
        let plain = b"C1.x may start with 04";
        let mut found = 0;
        for _ in 0..4096 {
            let raw = asymmetric::encrypt(pair.public_key_der(), alg, KeySpec::EcSm2, plain, &rng)
                .unwrap();
            if raw[1] != 0x04 {
                continue;
            }
            found += 1;
            assert!(pair.decrypt(alg, &raw[1..]).unwrap().ct_eq(plain));
            assert!(pair.decrypt(alg, &raw).unwrap().ct_eq(plain));
            if found == 2 {
                return;
            }
        }
        panic!("no C1.x starting with 04 in 4096 encryptions");
    }
}
