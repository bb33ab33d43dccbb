//! An independent implementation of the message AEAD, written from `docs/ciphertext-format.md`:
//! HKDF-SHA256 (on RustCrypto HMAC) derives a per-message key from the material and the salt,
//! then AES-256-GCM or SM4-GCM (RustCrypto) seals. A provider's keys must interoperate with it.
//!
//! It shares no code with the core's software provider; it is for tests only.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use hmac::{Hmac, Mac};
use openkms_core::KeySpec;
use sha2::Sha256;

/// HKDF `info` of per-message keys, as the format document gives it.
pub const MESSAGE_KEY_INFO: &[u8] = b"openkms/v1/message-key";

type HmacSha256 = Hmac<Sha256>;
type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// HKDF-SHA256 (RFC 5869) of at most 32 output bytes.
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    assert!(
        len <= 32,
        "one HMAC block is enough for the key lengths here"
    );
    let prk = hmac(salt, &[ikm]);
    let mut okm = hmac(&prk, &[info, &[1]]);
    okm.truncate(len);
    okm
}

fn message_key(spec: KeySpec, material: &[u8], salt: &[u8]) -> Vec<u8> {
    hkdf_sha256(salt, material, MESSAGE_KEY_INFO, spec.material_len())
}

/// Seals `plaintext`; returns ciphertext ‖ tag.
pub fn seal(
    spec: KeySpec,
    material: &[u8],
    salt: &[u8; 12],
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let key = message_key(spec, material, salt);
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    let sealed = match spec {
        KeySpec::AliyunAes256 => cipher::<Aes256Gcm>(&key).encrypt(&(*nonce).into(), payload),
        KeySpec::AliyunSm4 => cipher::<Sm4Gcm>(&key).encrypt(&(*nonce).into(), payload),
        other => panic!("{other:?} has no symmetric reference"),
    };
    sealed.expect("sealing a short message cannot fail")
}

/// Opens ciphertext ‖ tag; `None` if it does not authenticate.
pub fn open(
    spec: KeySpec,
    material: &[u8],
    salt: &[u8; 12],
    nonce: &[u8; 12],
    aad: &[u8],
    sealed: &[u8],
) -> Option<Vec<u8>> {
    let key = message_key(spec, material, salt);
    let payload = Payload { msg: sealed, aad };
    let opened = match spec {
        KeySpec::AliyunAes256 => cipher::<Aes256Gcm>(&key).decrypt(&(*nonce).into(), payload),
        KeySpec::AliyunSm4 => cipher::<Sm4Gcm>(&key).decrypt(&(*nonce).into(), payload),
        other => panic!("{other:?} has no symmetric reference"),
    };
    opened.ok()
}

fn cipher<C: KeyInit>(key: &[u8]) -> C {
    C::new_from_slice(key).expect("the derived key has the cipher's length")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5869 test case 1, first 32 bytes of the output.
    #[test]
    fn hkdf_known_answer() {
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let okm = hkdf_sha256(&salt, &ikm, &info, 32);
        let hex: String = okm.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }
}
