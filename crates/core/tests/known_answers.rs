//! Known-answer tests of the ciphertext format against `testdata/ciphertext/v1.json`, which an
//! independent implementation (`testdata/ciphertext/generate.py`, Python `cryptography`)
//! produced. Opening each vector and re-sealing it must give the same bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use openkms_core::ciphertext;
use openkms_core::crypto::{open_message, seal_message};
use openkms_core::{EncryptionContext, KeySpec, SecretBytes};
use serde_json::Value;

const VECTORS: &str = include_str!("../../../testdata/ciphertext/v1.json");

fn hex(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap()).unwrap()
}

fn context(v: &Value) -> EncryptionContext {
    EncryptionContext::from_json(&v["encryption_context"].to_string()).unwrap()
}

#[test]
fn every_vector_opens_and_reseals_identically() {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    let vectors = all["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 4);
    for v in vectors {
        let spec = KeySpec::parse(v["key_spec"].as_str().unwrap()).unwrap();
        let material = SecretBytes::new(hex(v, "material_hex"));
        let blob = base64::engine::general_purpose::STANDARD
            .decode(v["ciphertext_blob"].as_str().unwrap())
            .unwrap();
        let parsed = ciphertext::parse(&blob).unwrap();
        assert_eq!(parsed.version_id, v["version_id"].as_str().unwrap());
        let aad = ciphertext::associated_data(parsed.header, &context(v).canonical_bytes());
        let plain = open_message(
            spec,
            &material,
            parsed.salt,
            parsed.nonce,
            &aad,
            parsed.sealed,
        )
        .unwrap();
        assert_eq!(plain.expose_secret(), hex(v, "plaintext_hex").as_slice());

        let salt: [u8; 12] = hex(v, "salt_hex").try_into().unwrap();
        let nonce: [u8; 12] = hex(v, "nonce_hex").try_into().unwrap();
        let pt = hex(v, "plaintext_hex");
        let mut again = ciphertext::header(parsed.version_id, &salt, &nonce, pt.len());
        let aad = ciphertext::associated_data(&again, &context(v).canonical_bytes());
        again.extend(seal_message(spec, &material, &salt, &nonce, &aad, &pt).unwrap());
        assert_eq!(again, blob, "re-sealing {} differs", v["version_id"]);
    }
}

#[test]
fn a_wrong_context_or_flipped_bit_fails_on_every_vector() {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    for v in all["vectors"].as_array().unwrap() {
        let spec = KeySpec::parse(v["key_spec"].as_str().unwrap()).unwrap();
        let material = SecretBytes::new(hex(v, "material_hex"));
        let mut blob = base64::engine::general_purpose::STANDARD
            .decode(v["ciphertext_blob"].as_str().unwrap())
            .unwrap();
        let other = EncryptionContext::from_json(r#"{"other":"x"}"#).unwrap();
        let p = ciphertext::parse(&blob).unwrap();
        let aad = ciphertext::associated_data(p.header, &other.canonical_bytes());
        assert!(open_message(spec, &material, p.salt, p.nonce, &aad, p.sealed).is_err());
        let last = blob.len() - 1;
        blob[last] ^= 0x80;
        let p = ciphertext::parse(&blob).unwrap();
        let aad = ciphertext::associated_data(p.header, &context(v).canonical_bytes());
        assert!(open_message(spec, &material, p.salt, p.nonce, &aad, p.sealed).is_err());
    }
}
