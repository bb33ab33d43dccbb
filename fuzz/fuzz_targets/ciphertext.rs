//! The CiphertextBlob (`openkms_core::ciphertext::parse`, and the base64 layer before it,
//! `openkms_api::codec::request::decode_blob`).
//!
//! Checks: no panic; a blob that parses is exactly its header (rebuilt by
//! `ciphertext::header` or, for the HSM variant, `ciphertext::hsm_header` from the parsed fields) followed by its sealed part, with a UUID
//! version id; Decrypt of any blob against a store without keys is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openkms_api::codec::request::decode_blob;
use openkms_core::EncryptionContext;
use openkms_core::ciphertext::{self, HEADER_LEN, HSM_HEADER_LEN, MIN_LEN};
use openkms_core::provider::MessageFormat;
use openkms_fuzz::shared;

fuzz_target!(|data: &[u8]| {
    check_blob(data);
    if let Some(bytes) = std::str::from_utf8(data)
        .ok()
        .and_then(|t| decode_blob(t).ok())
    {
        check_blob(&bytes);
    }
});

fn check_blob(bytes: &[u8]) {
    let Ok(blob) = ciphertext::parse(bytes) else {
        return;
    };
    assert!(bytes.len() >= MIN_LEN);
    assert!(ciphertext::is_uuid_text(blob.version_id));
    let sealed_len = blob.sealed.len();
    let mut rebuilt = match blob.format {
        MessageFormat::Derived => {
            ciphertext::header(blob.version_id, blob.salt, blob.nonce, sealed_len)
        }
        MessageFormat::Direct => ciphertext::hsm_header(blob.version_id, blob.nonce, sealed_len),
    };
    assert!(rebuilt.len() == HEADER_LEN || rebuilt.len() == HSM_HEADER_LEN);
    assert_eq!(rebuilt.as_slice(), blob.header);
    rebuilt.extend_from_slice(blob.sealed);
    assert_eq!(rebuilt.as_slice(), bytes);
    let shared = shared();
    let decrypted = shared
        .runtime
        .block_on(shared.service.decrypt(bytes, &EncryptionContext::empty()));
    assert!(decrypted.is_err(), "a store without keys decrypted a blob");
}
