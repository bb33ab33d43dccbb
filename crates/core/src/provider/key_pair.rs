//! Software key pairs: generating a private key as PKCS#8, and the in-memory handle
//! ([`PrivateKey`]) that signs and decrypts with it.
//!
//! The PKCS#8 bytes exist only in wiping buffers, between generation and the root-key wrap,
//! and between the unwrap and parsing; the parsed keys live inside aws-lc-rs (which frees
//! them with `EVP_PKEY_free`, clearing RSA and EC private values) or in RustCrypto's `sm2`
//! types (which zeroize on drop). This module does not wrap or store anything; the software
//! provider does.

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
    Sm2 {
        sign: Box<sm2::dsa::SigningKey>,
        decrypt: Box<sm2::pke::DecryptingKey>,
    },
}

impl SoftwarePair {
    /// Parses PKCS#8 DER as a key of `spec`; anything else (another spec or size, damaged
    /// bytes) is [`KmsError::Corrupt`].
    pub(crate) fn from_pkcs8(spec: KeySpec, der: &[u8]) -> Result<Self, KmsError> {
        let (inner, public_der) = match spec {
            _ if is_rsa(spec) => rsa_from_pkcs8(spec, der)?,
            KeySpec::EcP256 | KeySpec::EcP256K => {
                let pair = EcdsaKeyPair::from_pkcs8(ecdsa_alg(spec)?, der)
                    .map_err(|_| KmsError::Corrupt)?;
                let public = pair.public_key().as_der().map_err(|_| KmsError::Corrupt)?;
                let public = public.as_ref().to_vec();
                (Inner::Ecdsa(pair), public)
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

fn sm2_from_pkcs8(der: &[u8]) -> Result<(Inner, Vec<u8>), KmsError> {
    let secret = sm2::SecretKey::from_pkcs8_der(der).map_err(|_| KmsError::Corrupt)?;
    let public = secret
        .public_key()
        .to_public_key_der()
        .map_err(|_| KmsError::Corrupt)?;
    let sign = sm2::dsa::SigningKey::new(SM2_DISTID, &secret).map_err(|_| KmsError::Corrupt)?;
    let decrypt =
        sm2::pke::DecryptingKey::new_with_mode(secret.to_nonzero_scalar(), sm2::pke::Mode::C1C3C2);
    let inner = Inner::Sm2 {
        sign: Box::new(sign),
        decrypt: Box::new(decrypt),
    };
    Ok((inner, public.as_bytes().to_vec()))
}

impl PrivateKey for SoftwarePair {
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
            (Inner::Sm2 { sign, .. }, SignAlgorithm::Sm2Dsa) => {
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
            (Inner::Sm2 { decrypt, .. }, None) => sm2_decrypt(decrypt, ciphertext),
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
/// `04 ‖ C1 ‖ C3 ‖ C2`, or the same without the leading `04`.
fn sm2_decrypt(key: &sm2::pke::DecryptingKey, ciphertext: &[u8]) -> Result<SecretBytes, KmsError> {
    if ciphertext.first() == Some(&0x30)
        && let Ok(plain) = key.decrypt_der(ciphertext)
    {
        return Ok(SecretBytes::new(plain));
    }
    let plain = match ciphertext.first() {
        Some(0x04) => key.decrypt(ciphertext),
        _ => {
            let mut prefixed = Vec::with_capacity(ciphertext.len() + 1);
            prefixed.push(0x04);
            prefixed.extend_from_slice(ciphertext);
            key.decrypt(&prefixed)
        }
    };
    plain
        .map(SecretBytes::new)
        .map_err(|_| KmsError::InvalidCiphertext)
}

#[cfg(test)]
mod tests {
    //! The private key is known here, so what the public key encrypted is opened by OpenSSL
    //! (an independent implementation), and OpenSSL's signatures of the same digest verify.
    #![allow(clippy::unwrap_used)]

    use std::path::PathBuf;
    use std::process::Command;

    use sm2::pkcs8::der::Encode;

    use super::*;
    use crate::asymmetric;
    use crate::random::OsRandom;

    fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("openkms-pair-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// `openkms pkeyutl -decrypt` of `ciphertext` with the PKCS#8 DER key `pkcs8`.
    fn openssl_decrypt(pkcs8: &[u8], ciphertext: &[u8], opts: &[&str], tag: &str) -> Vec<u8> {
        let key = scratch(&format!("{tag}.key.der"), pkcs8);
        let ct = scratch(&format!("{tag}.ct"), ciphertext);
        let mut cmd = Command::new("openssl");
        cmd.args(["pkeyutl", "-decrypt", "-keyform", "DER", "-inkey"])
            .arg(&key)
            .arg("-in")
            .arg(&ct);
        for opt in opts {
            cmd.args(["-pkeyopt", opt]);
        }
        let out = cmd
            .output()
            .expect("openssl must be installed for this test");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
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
            assert_eq!(openssl_decrypt(&pkcs8, &ct, &opts, md), plain);
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
        assert_eq!(openssl_decrypt(&pkcs8, &der, &[], "sm2"), plain);
        assert!(pair.decrypt(alg, &der).unwrap().ct_eq(plain));
    }
}
