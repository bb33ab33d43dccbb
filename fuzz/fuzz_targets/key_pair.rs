//! Untrusted bytes against the key-pair handles (`openkms_core::PrivateKey::decrypt`) and the
//! public-key checks (`openkms_core::asymmetric::verify`): AsymmetricDecrypt's ciphertext for
//! every algorithm (RSA-OAEP, and SM2 read leniently as DER `SM2Cipher`, raw `04 ‖ C1 ‖ C3 ‖ C2`
//! or the same without `04`) and AsymmetricVerify's signature for every algorithm.
//!
//! Checks: no panic; a failed decryption is the one `InvalidCiphertext`; an arbitrary
//! signature over a fixed digest does not verify.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use openkms_core::asymmetric::{self, EncryptAlgorithm, SignAlgorithm};
use openkms_core::{
    KeyBinding, KeyProvider, KeySpec, KmsError, LoadedKey, OsRandom, PrivateKey, RootKey,
    SoftwareProvider,
};

const DIGEST: [u8; asymmetric::DIGEST_LEN] = [0x42; asymmetric::DIGEST_LEN];

/// One loaded key per spec, made on first use.
fn keys() -> &'static [(KeySpec, Arc<dyn PrivateKey>)] {
    static KEYS: OnceLock<Vec<(KeySpec, Arc<dyn PrivateKey>)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let rng = Arc::new(OsRandom::new());
        let root = Arc::new(RootKey::generate(rng.as_ref()));
        let provider = SoftwareProvider::new(root, rng);
        let bind = KeyBinding::version("fuzz-key", "fuzz-version");
        [KeySpec::Rsa2048, KeySpec::EcP256, KeySpec::EcP256K, KeySpec::EcSm2]
            .into_iter()
            .map(|spec| {
                // The software provider's handles sign and decrypt whatever the usage (the
                // service enforces usage), so one key per spec serves both checks.
                let usage = spec.default_usage();
                let stored = provider.generate(spec, usage, &bind).expect("generate");
                match provider.load(spec, &stored, &bind).expect("load") {
                    LoadedKey::Private(key) => (spec, key),
                    LoadedKey::Symmetric(_) => panic!("{spec:?} is a key pair"),
                }
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let pick = data.first().copied().unwrap_or(0) as usize;
    let input = data.get(1..).unwrap_or_default();
    let (spec, key) = &keys()[pick % keys().len()];
    for alg in [
        EncryptAlgorithm::RsaesOaepSha256,
        EncryptAlgorithm::RsaesOaepSha1,
        EncryptAlgorithm::Sm2Pke,
    ] {
        if alg.fits(*spec) {
            match key.decrypt(alg, input) {
                Ok(_) | Err(KmsError::InvalidCiphertext) => {}
                Err(other) => panic!("{spec:?} {alg:?}: {other:?}"),
            }
        }
    }
    for alg in [
        SignAlgorithm::RsaPssSha256,
        SignAlgorithm::RsaPkcs1Sha256,
        SignAlgorithm::EcdsaSha256,
        SignAlgorithm::Sm2Dsa,
    ] {
        let public = key.public_key_der();
        assert!(!asymmetric::verify(public, alg, *spec, &DIGEST, input), "{spec:?} {alg:?}");
    }
});
