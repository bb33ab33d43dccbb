//! HSM key pairs on a real token (SoftHSM2 by default; see `openkms_pkcs11::testing`): every
//! signature the token makes is verified by OpenSSL (an independent implementation) with only
//! the public key openkms stored; what OpenSSL encrypts with OAEP-SHA-1 decrypts in the token,
//! and OAEP-SHA-256 either decrypts there or, on a token without it (SoftHSM2 2.6.1), is
//! refused with `UnsupportedOperation` whatever the ciphertext;
//! the private key's secret parts cannot be read out of the token; the stored reference is
//! bound to its version and its public key to the token's private key; the token lets a
//! private key only sign or only decrypt, as its usage says, while a pair made before it did
//! (allowed both) keeps working; and a service keeps signing with a key pair after a restart.
//! (The shared conformance suite runs on these pairs in `crates/keys-tests/tests/pkcs11.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Arc;

use cryptoki::context::Function;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use openkms_core::asymmetric::{self, EncryptAlgorithm, SignAlgorithm};
use openkms_core::service::CreateKeyInput;
use openkms_core::*;
use openkms_pkcs11::{
    PairDecrypt, PairSign, Pkcs11Provider, STORED_PAIR_V1, Token, TokenError, object_label, testing,
};
use openkms_store_tests::memory::MemoryStore;

const ROOT: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The pair specs the PKCS#11 provider makes in the token.
const OFFERED: [KeySpec; 5] = [
    KeySpec::Rsa2048,
    KeySpec::Rsa3072,
    KeySpec::Rsa4096,
    KeySpec::EcP256,
    KeySpec::EcP256K,
];

fn provider(token: &Arc<Token>) -> Pkcs11Provider {
    Pkcs11Provider::new(token.clone(), Arc::new(OsRandom::new()))
}

fn bind() -> KeyBinding<'static> {
    KeyBinding::version(
        "0a1b2c3d-0000-4000-8000-000000000001",
        "0a1b2c3d-0000-4000-8000-000000000002",
    )
}

fn private(loaded: LoadedKey) -> Arc<dyn PrivateKey> {
    match loaded {
        LoadedKey::Private(key) => key,
        LoadedKey::Symmetric(_) => panic!("a key pair loaded as a symmetric key"),
    }
}

/// `openssl pkeyutl <mode>` with the DER public key `public`, `input` and `-pkeyopt`
/// options; its output, or `None` when it failed.
fn openssl(mode: &[&str], public: &[u8], input: &[u8], opts: &[&str]) -> Option<Vec<u8>> {
    let dir = tempfile_dir();
    let (key, data) = (dir.join("pub.der"), dir.join("in.bin"));
    std::fs::write(&key, public).unwrap();
    std::fs::write(&data, input).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.arg("pkeyutl")
        .args(["-pubin", "-keyform", "DER", "-inkey"]);
    cmd.arg(&key).arg("-in").arg(&data);
    cmd.args(mode);
    for opt in opts {
        cmd.args(["-pkeyopt", opt]);
    }
    let out = cmd
        .output()
        .expect("openssl must be installed for this test");
    let _ = std::fs::remove_dir_all(&dir);
    out.status.success().then_some(out.stdout)
}

/// A fresh directory for one OpenSSL run.
fn tempfile_dir() -> std::path::PathBuf {
    let mut name = [0u8; 8];
    OsRandom::new().fill(&mut name);
    let hex: String = name.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("openkms-hsm-pairs-{hex}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether OpenSSL finds `signature` valid over `digest` for `public`.
fn openssl_verifies(
    public: &[u8],
    alg: SignAlgorithm,
    digest: &[u8; 32],
    signature: &[u8],
) -> bool {
    let opts: &[&str] = match alg {
        SignAlgorithm::RsaPssSha256 => &[
            "digest:sha256",
            "rsa_padding_mode:pss",
            "rsa_pss_saltlen:32",
            "rsa_mgf1_md:sha256",
        ],
        SignAlgorithm::RsaPkcs1Sha256 => &["digest:sha256", "rsa_padding_mode:pkcs1"],
        _ => &["digest:sha256"],
    };
    let dir = tempfile_dir();
    let sig = dir.join("signature.bin");
    std::fs::write(&sig, signature).unwrap();
    let sigfile = sig.to_str().unwrap().to_owned();
    let verified = openssl(&["-verify", "-sigfile", &sigfile], public, digest, opts);
    let _ = std::fs::remove_dir_all(&dir);
    verified.is_some()
}

/// The `s` of a DER `SEQUENCE{r,s}` (short form), without leading zero bytes.
fn der_s(der: &[u8]) -> Vec<u8> {
    let s_at = 4 + usize::from(der[3]);
    let s = &der[s_at + 2..s_at + 2 + usize::from(der[s_at + 1])];
    s.iter().skip_while(|b| **b == 0).copied().collect()
}

/// ⌊n/2⌋ of secp256k1.
const SECP256K1_HALF_N: [u8; 32] = [
    0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4, 0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0,
];

#[test]
fn token_signatures_verify_with_openssl_and_the_stored_public_key() {
    let Some(token) = testing::token() else {
        return;
    };
    let p = provider(&token);
    for spec in OFFERED {
        let stored = p.generate(spec, KeyUsage::SignVerify, &bind()).unwrap();
        let key = private(p.load(spec, &stored, &bind()).unwrap());
        let public = key.public_key_der().to_vec();
        assert_eq!(asymmetric::spec_of_public_key(&public), Some(spec));
        let algs = [
            SignAlgorithm::RsaPssSha256,
            SignAlgorithm::RsaPkcs1Sha256,
            SignAlgorithm::EcdsaSha256,
        ];
        for alg in algs.into_iter().filter(|a| a.fits(spec)) {
            for round in 0..4u8 {
                let digest = [round.wrapping_mul(37) ^ 0x5a; 32];
                let sig = key.sign(alg, &digest).unwrap();
                assert!(
                    openssl_verifies(&public, alg, &digest, &sig),
                    "{spec:?} {alg:?}"
                );
                let mut other = digest;
                other[0] ^= 1;
                assert!(
                    !openssl_verifies(&public, alg, &other, &sig),
                    "{spec:?} {alg:?}"
                );
                if spec == KeySpec::EcP256K {
                    let s = der_s(&sig);
                    assert!(
                        s.len() < 32 || s.as_slice() <= &SECP256K1_HALF_N[..],
                        "low S"
                    );
                }
            }
        }
        let sm2 = key.sign(SignAlgorithm::Sm2Dsa, &[1; 32]);
        assert!(matches!(sm2, Err(KmsError::UnsupportedOperation)));
    }
}

/// OpenSSL's OAEP ciphertext of `plain` with the hash `md` (`sha1`, `sha256`) for both the
/// label and MGF1, under the DER public key `public`.
fn openssl_oaep(public: &[u8], md: &str, plain: &[u8]) -> Vec<u8> {
    let opts = [
        "rsa_padding_mode:oaep",
        &format!("rsa_oaep_md:{md}"),
        &format!("rsa_mgf1_md:{md}"),
    ];
    openssl(&["-encrypt"], public, plain, &opts).expect("openssl encrypt")
}

/// Whether `key` decrypts what OpenSSL sealed with `alg`, refuses the other OAEP hash, a
/// changed and a short ciphertext with `InvalidCiphertext`. `false` only when the token refused
/// `alg` itself (`UnsupportedOperation`, then for every ciphertext alike); any other outcome
/// fails the test.
fn decrypts_in_the_token(key: &dyn PrivateKey, spec: KeySpec, alg: EncryptAlgorithm) -> bool {
    let md = match alg {
        EncryptAlgorithm::RsaesOaepSha1 => "sha1",
        _ => "sha256",
    };
    let plain = format!("sealed by OpenSSL for {spec:?} {alg:?}").into_bytes();
    let ct = openssl_oaep(key.public_key_der(), md, &plain);
    let mut bad = ct.clone();
    bad[7] ^= 0x20;
    let tries = [
        key.decrypt(alg, &ct),
        key.decrypt(alg, &bad),
        key.decrypt(alg, &ct[1..]),
    ];
    if tries
        .iter()
        .all(|t| matches!(t, Err(KmsError::UnsupportedOperation)))
    {
        return false;
    }
    let [opened, changed, short] = tries;
    assert!(opened.unwrap().ct_eq(&plain), "{spec:?} {alg:?}");
    assert!(matches!(changed, Err(KmsError::InvalidCiphertext)));
    assert!(matches!(short, Err(KmsError::InvalidCiphertext)));
    true
}

#[test]
fn what_openssl_encrypts_with_oaep_decrypts_in_the_token_or_is_unsupported() {
    let Some(token) = testing::token() else {
        return;
    };
    let p = provider(&token);
    for spec in [KeySpec::Rsa2048, KeySpec::Rsa4096] {
        let stored = p.generate(spec, KeyUsage::EncryptDecrypt, &bind()).unwrap();
        let key = private(p.load(spec, &stored, &bind()).unwrap());
        let sha1 = EncryptAlgorithm::RsaesOaepSha1;
        assert!(
            decrypts_in_the_token(key.as_ref(), spec, sha1),
            "{spec:?}: OAEP-SHA-1 refused"
        );
        // SHA-256: decrypted in the token where it has the mechanism, else refused (SoftHSM2
        // 2.6.1 refuses it at C_DecryptInit).
        let sha256 = EncryptAlgorithm::RsaesOaepSha256;
        let in_token = decrypts_in_the_token(key.as_ref(), spec, sha256);
        eprintln!("{spec:?}: OAEP-SHA-256 in the token: {in_token}");
        // Each hash refuses the other's ciphertext, as a bad ciphertext, when it runs at all.
        let plain = b"the other hash";
        let ct = openssl_oaep(key.public_key_der(), "sha1", plain);
        let wrong = key.decrypt(sha256, &ct);
        match in_token {
            true => assert!(matches!(wrong, Err(KmsError::InvalidCiphertext))),
            false => assert!(matches!(wrong, Err(KmsError::UnsupportedOperation))),
        }
        let ct = openssl_oaep(key.public_key_der(), "sha256", plain);
        let wrong = key.decrypt(sha1, &ct);
        assert!(matches!(wrong, Err(KmsError::InvalidCiphertext)));
    }
}

#[test]
fn the_private_key_cannot_leave_the_token_and_the_reference_is_bound() {
    let Some(token) = testing::token() else {
        return;
    };
    let p = provider(&token);
    for spec in [KeySpec::Rsa2048, KeySpec::EcP256] {
        let stored = p.generate(spec, KeyUsage::SignVerify, &bind()).unwrap();
        let bytes = stored.as_bytes();
        assert_eq!(bytes[0], STORED_PAIR_V1);
        let label = object_label(&bind());
        assert!(
            bytes.ends_with(label.as_bytes()),
            "the binding's label ends it"
        );
        let handle = token.find_private_key(&label, &bytes[2..18]).unwrap();
        let handle = handle.expect("the private key is a token object");
        assert!(!token.is_extractable(handle).unwrap());
        assert!(
            token.private_parts_refused(handle).unwrap(),
            "CKA_VALUE and CKA_PRIVATE_EXPONENT are not shown"
        );
        // Moved to another version, another key, or damaged anywhere: Corrupt.
        let other_version = KeyBinding::version(bind().key_id, "another-version");
        let other_key = KeyBinding::version("another-key", bind().version_id);
        for other in [other_version, other_key] {
            let moved = p.load(spec, &stored, &other);
            assert!(matches!(moved, Err(KmsError::Corrupt)));
        }
        for at in [1, 5, 19, 40, bytes.len() - 1] {
            let mut damaged = bytes.to_vec();
            damaged[at] ^= 0x01;
            let loaded = p.load(spec, &StoredKey::from_bytes(damaged), &bind());
            assert!(matches!(loaded, Err(KmsError::Corrupt)), "byte {at}");
        }
        let truncated = StoredKey::from_bytes(bytes[..bytes.len() - 1].to_vec());
        assert!(matches!(
            p.load(spec, &truncated, &bind()),
            Err(KmsError::Corrupt)
        ));
    }
}

/// The public key a stored reference carries (after tag, spec, `CKA_ID` and its length).
fn stored_public_key(stored: &[u8]) -> &[u8] {
    let len = usize::from(u16::from_be_bytes([stored[18], stored[19]]));
    &stored[20..20 + len]
}

/// `stored` with its public key replaced by `public` (the length field re-encoded).
fn with_public_key(stored: &[u8], public: &[u8]) -> StoredKey {
    let old = stored_public_key(stored).len();
    let len = u16::try_from(public.len()).unwrap().to_be_bytes();
    let out = [&stored[..18], &len[..], public, &stored[20 + old..]].concat();
    StoredKey::from_bytes(out)
}

/// The reference is not sealed: one whose public key was replaced by another valid key of the
/// same spec (a tampered store row or backup) must not load, or GetPublicKey, Verify and
/// Encrypt would use that key while Sign and Decrypt use the token's.
#[test]
fn a_reference_carrying_another_public_key_does_not_load() {
    let Some(token) = testing::token() else {
        return;
    };
    let p = provider(&token);
    let mine = KeyBinding::version("swap-key-mine", "swap-version-mine");
    let theirs = KeyBinding::version("swap-key-theirs", "swap-version-theirs");
    for (spec, alg) in [
        (KeySpec::Rsa2048, SignAlgorithm::RsaPssSha256),
        (KeySpec::EcP256, SignAlgorithm::EcdsaSha256),
    ] {
        let stored = p.generate(spec, KeyUsage::SignVerify, &mine).unwrap();
        let other = p.generate(spec, KeyUsage::SignVerify, &theirs).unwrap();
        let other_public = stored_public_key(other.as_bytes());
        assert_ne!(stored_public_key(stored.as_bytes()), other_public);
        let swapped = with_public_key(stored.as_bytes(), other_public);
        assert_eq!(swapped.as_bytes().len(), stored.as_bytes().len());
        let loaded = p.load(spec, &swapped, &mine);
        assert!(matches!(loaded, Err(KmsError::Corrupt)), "{spec:?}");
        // Untampered, both still load and sign with the key they carry.
        for (stored, bind) in [(&stored, &mine), (&other, &theirs)] {
            let key = private(p.load(spec, stored, bind).unwrap());
            assert_eq!(key.public_key_der(), stored_public_key(stored.as_bytes()));
            let digest = [0x3c; 32];
            let sig = key.sign(alg, &digest).unwrap();
            assert!(asymmetric::verify(
                key.public_key_der(),
                alg,
                spec,
                &digest,
                &sig
            ));
        }
    }
}

/// A reference of one spec naming a token key of another type is refused, whatever public
/// key of its own spec it carries.
#[test]
fn a_reference_naming_a_key_of_another_type_does_not_load() {
    let Some(token) = testing::token() else {
        return;
    };
    let p = provider(&token);
    let ec = KeyBinding::version("type-key-ec", "type-version-ec");
    let rsa = KeyBinding::version("type-key-rsa", "type-version-rsa");
    let ec_stored = p
        .generate(KeySpec::EcP256, KeyUsage::SignVerify, &ec)
        .unwrap();
    let rsa_stored = p
        .generate(KeySpec::Rsa2048, KeyUsage::SignVerify, &rsa)
        .unwrap();
    // An RSA_2048 reference with the EC key's id and label.
    let rsa_public = stored_public_key(rsa_stored.as_bytes());
    let mut forged = with_public_key(ec_stored.as_bytes(), rsa_public)
        .as_bytes()
        .to_vec();
    forged[1] = rsa_stored.as_bytes()[1];
    let loaded = p.load(KeySpec::Rsa2048, &StoredKey::from_bytes(forged), &ec);
    assert!(matches!(loaded, Err(KmsError::Corrupt)));
    assert!(p.load(KeySpec::EcP256, &ec_stored, &ec).is_ok());
}

/// A pair whose private key could leave the token (made readable for tests) is refused at load:
/// only keys that are sensitive and never extractable are served.
#[test]
fn a_pair_whose_private_key_could_leave_the_token_does_not_load() {
    let Some(token) = testing::token() else {
        return;
    };
    let readable = Pkcs11Provider::extractable_for_tests(token.clone(), Arc::new(OsRandom::new()));
    for spec in [KeySpec::Rsa2048, KeySpec::EcP256] {
        let bind = KeyBinding::version("readable-key", "readable-version");
        let stored = readable
            .generate(spec, KeyUsage::SignVerify, &bind)
            .unwrap();
        let loaded = readable.load(spec, &stored, &bind);
        assert!(matches!(loaded, Err(KmsError::Corrupt)), "{spec:?}");
    }
}

/// A token failure before `C_Decrypt` sees the ciphertext (here a handle whose object is gone)
/// is the token being unavailable (`Custody`), the same for every ciphertext, not a verdict on
/// the ciphertext.
#[test]
fn a_token_failure_before_decrypting_is_custody_whatever_the_ciphertext() {
    let Some(token) = testing::token() else {
        return;
    };
    let p = provider(&token);
    let bind = KeyBinding::version("stale-key", "stale-version");
    let stored = p
        .generate(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt, &bind)
        .unwrap();
    let key = private(p.load(KeySpec::Rsa2048, &stored, &bind).unwrap());
    let alg = EncryptAlgorithm::RsaesOaepSha1;
    let ct = openssl_oaep(key.public_key_der(), "sha1", b"opened before the key went");
    assert!(key.decrypt(alg, &ct).is_ok());
    let label = object_label(&bind);
    let handle = token.find_private_key(&label, &stored.as_bytes()[2..18]);
    token.destroy(handle.unwrap().unwrap()).unwrap();
    for ciphertext in [ct.clone(), vec![0x5a; ct.len()], ct[1..].to_vec()] {
        let refused = key.decrypt(alg, &ciphertext);
        assert!(matches!(refused, Err(KmsError::Custody)), "{refused:?}");
    }
}

/// The check above can fail: a pair made readable for tests shows its private parts.
#[test]
fn a_test_only_extractable_pair_shows_its_private_parts() {
    let Some(token) = testing::token() else {
        return;
    };
    let p = Pkcs11Provider::extractable_for_tests(token.clone(), Arc::new(OsRandom::new()));
    let stored = p
        .generate(KeySpec::Rsa2048, KeyUsage::SignVerify, &bind())
        .unwrap();
    let label = object_label(&bind());
    let handle = token.find_private_key(&label, &stored.as_bytes()[2..18]);
    let handle = handle.unwrap().unwrap();
    assert!(token.is_extractable(handle).unwrap());
    assert!(!token.private_parts_refused(handle).unwrap());
}

/// The private key of `stored` in the token.
fn token_key(token: &Token, stored: &StoredKey, bind: &KeyBinding<'_>) -> ObjectHandle {
    let found = token.find_private_key(&object_label(bind), &stored.as_bytes()[2..18]);
    found.unwrap().expect("the private key is in the token")
}

/// Whether `e` is the token refusing the key when the operation started
/// (`CKR_KEY_FUNCTION_NOT_PERMITTED` from `C_DecryptInit` or `C_SignInit`).
fn not_permitted(e: &TokenError) -> bool {
    matches!(
        e,
        TokenError::Call(CkError::Pkcs11(
            RvError::KeyFunctionNotPermitted,
            Function::DecryptInit | Function::SignInit
        ))
    )
}

/// The token knows a pair's usage: a SIGN/VERIFY private key has `CKA_SIGN` and not
/// `CKA_DECRYPT`, an ENCRYPT/DECRYPT one the reverse.
#[test]
fn the_private_key_may_only_sign_or_only_decrypt_as_its_usage_says() {
    let Some(token) = testing::token() else {
        return;
    };
    let p = provider(&token);
    let cases = [
        (KeySpec::Rsa2048, KeyUsage::SignVerify, true),
        (KeySpec::Rsa2048, KeyUsage::EncryptDecrypt, false),
        (KeySpec::EcP256, KeyUsage::SignVerify, true),
        (KeySpec::EcP256K, KeyUsage::SignVerify, true),
    ];
    for (spec, usage, signs) in cases {
        let bind = KeyBinding::version("usage-key", usage.as_str());
        let stored = p.generate(spec, usage, &bind).unwrap();
        let facts = token
            .private_key_facts(token_key(&token, &stored, &bind))
            .unwrap();
        assert_eq!(facts.sign, Some(signs), "{spec:?} {usage:?}");
        assert_eq!(facts.decrypt, Some(!signs), "{spec:?} {usage:?}");
        assert!(p.load(spec, &stored, &bind).is_ok(), "{spec:?} {usage:?}");
    }
    // A usage the spec does not allow is refused before the token is asked.
    let made = p.generate(KeySpec::EcP256, KeyUsage::EncryptDecrypt, &bind());
    assert!(matches!(made, Err(KmsError::UnsupportedOperation)));
}

/// Asked directly, the token refuses a SIGN/VERIFY key's decryption and an ENCRYPT/DECRYPT
/// key's signature (`CKR_KEY_FUNCTION_NOT_PERMITTED`), while each does its own job.
#[test]
fn the_token_refuses_the_other_usage_of_a_pair() {
    let Some(token) = testing::token() else {
        return;
    };
    let p = provider(&token);
    let digest = [0x11; 32];
    let signing = KeyBinding::version("refusing-key", "sign");
    let stored = p
        .generate(KeySpec::Rsa2048, KeyUsage::SignVerify, &signing)
        .unwrap();
    let key = token_key(&token, &stored, &signing);
    let ct = openssl_oaep(
        stored_public_key(stored.as_bytes()),
        "sha1",
        b"not for a signing key",
    );
    let refused = token
        .decrypt_pair(key, PairDecrypt::OaepSha1, &ct)
        .unwrap_err();
    assert!(not_permitted(&refused), "{refused}");
    assert!(refused.to_string().contains("DecryptInit"), "{refused}");
    assert!(
        token
            .sign_pair(key, PairSign::RsaPssSha256, &digest)
            .is_ok()
    );

    let decrypting = KeyBinding::version("refusing-key", "decrypt");
    let stored = p
        .generate(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt, &decrypting)
        .unwrap();
    let key = token_key(&token, &stored, &decrypting);
    let refused = token
        .sign_pair(key, PairSign::RsaPssSha256, &digest)
        .unwrap_err();
    assert!(not_permitted(&refused), "{refused}");
    assert!(refused.to_string().contains("SignInit"), "{refused}");
    let ct = openssl_oaep(
        stored_public_key(stored.as_bytes()),
        "sha1",
        b"for a decrypting key",
    );
    let opened = token.decrypt_pair(key, PairDecrypt::OaepSha1, &ct).unwrap();
    assert_eq!(opened, b"for a decrypting key");
}

/// A pair made before the token was told the usage (its private key may both sign and
/// decrypt) still loads, signs and decrypts: the reference does not say the usage, and the
/// service enforces it.
#[test]
fn a_pair_made_to_sign_and_decrypt_still_loads_and_does_both() {
    let Some(token) = testing::token() else {
        return;
    };
    let bind = KeyBinding::version("legacy-key", "legacy-version");
    let label = object_label(&bind);
    let id = [0x4c; 16];
    let public_template = [
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(KeyType::RSA),
        Attribute::Token(false),
        Attribute::Verify(true),
        Attribute::Encrypt(true),
        Attribute::ModulusBits(2048.into()),
        Attribute::PublicExponent(vec![1, 0, 1]),
    ];
    let private_template = [
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(KeyType::RSA),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.to_vec()),
    ];
    let (modulus, exponent) = token
        .with_session(|s| {
            let (public, _) = s.generate_key_pair(
                &Mechanism::RsaPkcsKeyPairGen,
                &public_template,
                &private_template,
            )?;
            let wanted = [AttributeType::Modulus, AttributeType::PublicExponent];
            let parts = s.get_attributes(public, &wanted)?;
            s.destroy_object(public)?;
            Ok(parts)
        })
        .map(|parts| match parts.as_slice() {
            [Attribute::Modulus(n), Attribute::PublicExponent(e)] => (n.clone(), e.clone()),
            other => panic!("unexpected attributes {other:?}"),
        })
        .unwrap();
    let der = token_pair::rsa_public_key_der(KeySpec::Rsa2048, &modulus, &exponent).unwrap();
    // The reference as crates/pkcs11/src/pair.rs lays it out (spec byte 0x10: RSA_2048).
    let mut reference = vec![STORED_PAIR_V1, 0x10];
    reference.extend_from_slice(&id);
    reference.extend_from_slice(&u16::try_from(der.len()).unwrap().to_be_bytes());
    reference.extend_from_slice(&der);
    reference.extend_from_slice(label.as_bytes());
    let stored = StoredKey::from_bytes(reference);

    let key = private(
        provider(&token)
            .load(KeySpec::Rsa2048, &stored, &bind)
            .unwrap(),
    );
    let facts = token
        .private_key_facts(token_key(&token, &stored, &bind))
        .unwrap();
    assert_eq!((facts.sign, facts.decrypt), (Some(true), Some(true)));
    let alg = SignAlgorithm::RsaPssSha256;
    let digest = [0x2d; 32];
    let sig = key.sign(alg, &digest).unwrap();
    assert!(asymmetric::verify(
        &der,
        alg,
        KeySpec::Rsa2048,
        &digest,
        &sig
    ));
    let ct = openssl_oaep(&der, "sha1", b"an older pair");
    let opened = key.decrypt(EncryptAlgorithm::RsaesOaepSha1, &ct).unwrap();
    assert!(opened.ct_eq(b"an older pair"));
}

#[test]
fn sm2_is_refused_in_the_token() {
    let Some(token) = testing::token() else {
        return;
    };
    let made = provider(&token).generate(KeySpec::EcSm2, KeyUsage::SignVerify, &bind());
    assert!(matches!(made, Err(KmsError::UnsupportedOperation)));
}

fn config() -> ServiceConfig {
    ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: Some("1234567890123456".into()),
        cache_ttl_ms: None,
    }
}

async fn service(store: &MemoryStore, token: &Arc<Token>) -> KeyService {
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom::new());
    let root = RootKey::from_base64(ROOT).unwrap();
    let store: Arc<dyn Store> = Arc::new(store.clone());
    KeyService::open(store, root, Arc::new(SystemClock), rng.clone(), config())
        .await
        .unwrap()
        .with_hsm_provider(Arc::new(Pkcs11Provider::new(token.clone(), rng)))
}

#[tokio::test]
async fn an_hsm_key_pair_signs_through_the_service_and_after_a_restart() {
    let Some(token) = testing::token() else {
        return;
    };
    let store = MemoryStore::default();
    let kms = service(&store, &token).await;
    let input = CreateKeyInput {
        description: String::new(),
        spec: KeySpec::EcP256,
        usage: KeyUsage::SignVerify,
        origin: Origin::AliyunKms,
        protection_level: ProtectionLevel::Hsm,
        rotation_interval: None,
        tags: vec![],
        policy: None,
    };
    let key = kms.create_key(input).await.unwrap();
    assert_eq!(key.protection_level, ProtectionLevel::Hsm);
    let id = KeyRef::Id(key.key_id.clone());
    let version = key.primary_version.clone();
    let public = kms.get_public_key(&id, &version).await.unwrap().pem;
    let digest = [0x11; 32];
    let alg = SignAlgorithm::EcdsaSha256;
    let signed = kms
        .asymmetric_sign(&id, &version, alg, &digest)
        .await
        .unwrap();
    drop(kms);
    let kms = service(&store, &token).await;
    assert_eq!(kms.get_public_key(&id, &version).await.unwrap().pem, public);
    let again = kms
        .asymmetric_sign(&id, &version, alg, &digest)
        .await
        .unwrap();
    for sig in [signed.bytes, again.bytes] {
        let checked = kms.asymmetric_verify(&id, &version, alg, &digest, &sig);
        assert!(checked.await.unwrap().valid);
    }
}
