//! The conformance checks of key pairs: every pair spec a provider offers generates, loads
//! into a [`PrivateKey`] handle whose signatures verify with the public key and whose
//! decryption opens what the public key encrypted (or, for an algorithm the device may lack,
//! is refused whatever the ciphertext) — pairs that sign are made with `SIGN/VERIFY`, those
//! that decrypt with `ENCRYPT/DECRYPT`; a stored pair is bound to its version and
//! spec; specs not offered, and imports of pairs, are refused with
//! [`KmsError::UnsupportedOperation`]. Independent implementations check the same bytes in
//! the end-to-end suite (Python `cryptography`, OpenSSL).

use openkms_core::asymmetric::{self, EncryptAlgorithm, SignAlgorithm};
use openkms_core::{
    KeyBinding, KeyProvider, KeySpec, KeyUsage, KmsError, OsRandom, PrivateKey, SecretBytes,
};

use crate::checks::{PAIR_SPECS, Profile, bind, covered};

const SIGNING: [SignAlgorithm; 4] = [
    SignAlgorithm::RsaPssSha256,
    SignAlgorithm::RsaPkcs1Sha256,
    SignAlgorithm::EcdsaSha256,
    SignAlgorithm::Sm2Dsa,
];
const ENCRYPTING: [EncryptAlgorithm; 3] = [
    EncryptAlgorithm::RsaesOaepSha256,
    EncryptAlgorithm::RsaesOaepSha1,
    EncryptAlgorithm::Sm2Pke,
];

fn loaded(p: &dyn KeyProvider, spec: KeySpec, usage: KeyUsage) -> std::sync::Arc<dyn PrivateKey> {
    let stored = p.generate(spec, usage, &bind()).expect("generate a pair");
    match p.load(spec, &stored, &bind()).expect("load the pair") {
        openkms_core::LoadedKey::Private(key) => key,
        openkms_core::LoadedKey::Symmetric(_) => panic!("{spec:?} loaded as a symmetric key"),
    }
}

/// Every offered pair signs with each algorithm that fits it, the signature verifies with the
/// public key alone, a changed digest does not, and an algorithm of another spec is refused.
pub fn key_pairs_sign_and_verify(p: &dyn KeyProvider, profile: &Profile) {
    for &spec in profile.pairs {
        assert!(covered(spec));
        let key = loaded(p, spec, KeyUsage::SignVerify);
        assert_eq!(key.spec(), spec);
        let digest = [0x5a; asymmetric::DIGEST_LEN];
        for alg in SIGNING {
            let signed = key.sign(alg, &digest);
            if !alg.fits(spec) {
                assert!(matches!(signed, Err(KmsError::UnsupportedOperation)));
                continue;
            }
            let sig = signed.expect("sign");
            let public = key.public_key_der();
            assert!(
                asymmetric::verify(public, alg, spec, &digest, &sig),
                "{spec:?}"
            );
            let mut other = digest;
            other[31] ^= 1;
            assert!(!asymmetric::verify(public, alg, spec, &other, &sig));
        }
    }
}

/// Every offered pair that encrypts opens what its public key sealed, and refuses a tampered
/// ciphertext with the one undetailed error. An algorithm the profile says a device may lack
/// may instead be [`KmsError::UnsupportedOperation`], then for the tampered ciphertext too.
pub fn key_pairs_encrypt_and_decrypt(p: &dyn KeyProvider, profile: &Profile) {
    let rng = OsRandom::new();
    for &spec in profile
        .pairs
        .iter()
        .filter(|s| s.allows(KeyUsage::EncryptDecrypt))
    {
        let key = loaded(p, spec, KeyUsage::EncryptDecrypt);
        for alg in ENCRYPTING.into_iter().filter(|a| a.fits(spec)) {
            let plain = vec![0x3c; alg.max_plaintext(spec)];
            let public = key.public_key_der();
            let mut sealed = asymmetric::encrypt(public, alg, spec, &plain, &rng).expect("seal");
            let opened = key.decrypt(alg, &sealed);
            let last = sealed.len() - 1;
            sealed[last] ^= 1;
            let tampered = key.decrypt(alg, &sealed);
            if profile.device_dependent.contains(&alg)
                && matches!(opened, Err(KmsError::UnsupportedOperation))
            {
                assert!(matches!(tampered, Err(KmsError::UnsupportedOperation)));
                continue;
            }
            let opened: SecretBytes = opened.expect("open");
            assert!(opened.ct_eq(&plain), "{spec:?} {alg:?}");
            assert!(matches!(tampered, Err(KmsError::InvalidCiphertext)));
        }
    }
}

/// A stored pair loads only for its own key, version and spec.
pub fn key_pair_bound_to_its_version_and_spec(p: &dyn KeyProvider, profile: &Profile) {
    for &spec in profile.pairs {
        let stored = p
            .generate(spec, spec.default_usage(), &bind())
            .expect("generate");
        let other = KeyBinding::version(bind().key_id, "another-version");
        assert!(matches!(
            p.load(spec, &stored, &other),
            Err(KmsError::Corrupt)
        ));
        let wrong = match spec {
            KeySpec::EcP256 => KeySpec::Rsa2048,
            _ => KeySpec::EcP256,
        };
        assert!(matches!(
            p.load(wrong, &stored, &bind()),
            Err(KmsError::Corrupt)
        ));
    }
}

/// Pair specs the provider does not offer are refused, and pairs are never imported.
pub fn key_pairs_not_offered_are_refused(p: &dyn KeyProvider, profile: &Profile) {
    for spec in PAIR_SPECS {
        let material = SecretBytes::new(vec![1; 32]);
        let imported = p.import(spec, material, &bind());
        assert!(matches!(imported, Err(KmsError::UnsupportedOperation)));
        if !profile.pairs.contains(&spec) {
            let made = p.generate(spec, spec.default_usage(), &bind());
            assert!(matches!(made, Err(KmsError::UnsupportedOperation)));
        }
    }
}
