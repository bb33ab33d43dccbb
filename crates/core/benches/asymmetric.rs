//! Criterion micro-benchmarks of the raw signing rate behind AsymmetricSign: a loaded software
//! key pair (the provider's handle, as the service's cache holds it) signing a 32-byte digest
//! with RSA_2048 PSS (aws-lc-rs), EC_P256 and EC_P256K ECDSA (aws-lc-rs) and EC_SM2 SM2DSA
//! (RustCrypto `sm2`), and verifying with the public key alone. `openkms bench --op
//! sign-rsa2048|sign-p256|sign-sm2` measures the same through the server, so the two rates can
//! be compared.
//!
//! Run with `cargo bench -p openkms-core --bench asymmetric`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use openkms_core::asymmetric::{self, SignAlgorithm};
use openkms_core::{
    KeyBinding, KeyProvider, KeySpec, KeyUsage, LoadedKey, OsRandom, PrivateKey, RootKey,
    SoftwareProvider,
};

const CASES: [(KeySpec, SignAlgorithm, &str); 4] = [
    (
        KeySpec::Rsa2048,
        SignAlgorithm::RsaPssSha256,
        "RSA_2048 PSS",
    ),
    (KeySpec::EcP256, SignAlgorithm::EcdsaSha256, "EC_P256 ECDSA"),
    (
        KeySpec::EcP256K,
        SignAlgorithm::EcdsaSha256,
        "EC_P256K ECDSA",
    ),
    (KeySpec::EcSm2, SignAlgorithm::Sm2Dsa, "EC_SM2 SM2DSA"),
];

fn pair(spec: KeySpec) -> Arc<dyn PrivateKey> {
    let rng = Arc::new(OsRandom::new());
    let root = Arc::new(RootKey::generate(rng.as_ref()));
    let provider = SoftwareProvider::new(root, rng);
    let bind = KeyBinding::version("bench-key", "bench-version");
    let stored = provider
        .generate(spec, KeyUsage::SignVerify, &bind)
        .expect("generate");
    match provider.load(spec, &stored, &bind).expect("load") {
        LoadedKey::Private(key) => key,
        LoadedKey::Symmetric(_) => panic!("{spec:?} is a key pair"),
    }
}

fn sign(c: &mut Criterion) {
    let digest = [0x42u8; asymmetric::DIGEST_LEN];
    let mut group = c.benchmark_group("asymmetric");
    for (spec, alg, name) in CASES {
        let key = pair(spec);
        group.bench_function(format!("sign {name}"), |b| {
            b.iter(|| key.sign(alg, black_box(&digest)).expect("sign"))
        });
        let sig = key.sign(alg, &digest).expect("sign");
        let public = key.public_key_der().to_vec();
        group.bench_function(format!("verify {name}"), |b| {
            b.iter(|| asymmetric::verify(&public, alg, spec, black_box(&digest), &sig))
        });
    }
    group.finish();
}

criterion_group!(benches, sign);
criterion_main!(benches);
