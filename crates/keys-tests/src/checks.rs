//! The conformance checks, one public function per contract clause, each taking a fresh
//! provider. [`crate::conformance_tests!`] runs every one of them as its own test.

use base64::Engine as _;
use openkms_core::asymmetric::EncryptAlgorithm;
use openkms_core::crypto::{Message, TAG_LEN};
use openkms_core::provider::MessageFormat;
use openkms_core::{
    EncryptionContext, KeyBinding, KeyProvider, KeySpec, KeyUsage, KmsError, LoadedKey,
    SecretBytes, StoredKey, SymmetricKey, ciphertext,
};
use serde_json::Value;

use crate::reference;

/// Every symmetric spec; [`covered`] fails to compile when a spec is added and not listed.
pub const SYMMETRIC_SPECS: [KeySpec; 2] = [KeySpec::AliyunAes256, KeySpec::AliyunSm4];
/// Every key pair spec (checked in [`crate::pairs`]).
pub const PAIR_SPECS: [KeySpec; 6] = [
    KeySpec::Rsa2048,
    KeySpec::Rsa3072,
    KeySpec::Rsa4096,
    KeySpec::EcP256,
    KeySpec::EcP256K,
    KeySpec::EcSm2,
];

/// What a provider declares it offers, where providers may differ: the specs it makes keys
/// for, whether it imports material (BYOK), and the pair algorithms whose support depends on
/// the device. The checks cover what is offered and check that what is not offered is refused
/// with [`KmsError::UnsupportedOperation`].
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// The symmetric specs offered; `Aliyun_AES_256` must be among them.
    pub specs: &'static [KeySpec],
    /// Whether material can be imported.
    pub imports: bool,
    /// The key pair specs offered (the others must be refused).
    pub pairs: &'static [KeySpec],
    /// Decryption algorithms a device may lack: each either decrypts correctly or is refused
    /// with [`KmsError::UnsupportedOperation`] whatever the ciphertext.
    pub device_dependent: &'static [EncryptAlgorithm],
}

impl Profile {
    /// Every spec, with import: the software provider.
    pub const FULL: Profile = Profile {
        specs: &SYMMETRIC_SPECS,
        imports: true,
        pairs: &PAIR_SPECS,
        device_dependent: &[],
    };
    /// An HSM behind PKCS#11: AES-256 only of the symmetric specs (PKCS#11 has no standard
    /// SM4 mechanism), RSA, P-256 and secp256k1 pairs (no standard SM2 mechanism either),
    /// material made in the token and never imported (BYOK into a token is not served yet);
    /// OAEP with SHA-256 only where the token has it (SoftHSM2 2.6.1 does not).
    pub const HSM: Profile = Profile {
        specs: &[KeySpec::AliyunAes256],
        imports: false,
        pairs: &[
            KeySpec::Rsa2048,
            KeySpec::Rsa3072,
            KeySpec::Rsa4096,
            KeySpec::EcP256,
            KeySpec::EcP256K,
        ],
        device_dependent: &[EncryptAlgorithm::RsaesOaepSha256],
    };

    /// The specs offered.
    pub fn specs(&self) -> impl Iterator<Item = KeySpec> + '_ {
        self.specs.iter().copied()
    }
}

/// Whether `key` uses the HSM variant of the ciphertext format (no salt: GCM directly under
/// the key, so the message's salt is not an input).
fn direct(key: &dyn SymmetricKey) -> bool {
    key.format() == MessageFormat::Direct
}

/// Lists every spec, so that adding one to the core breaks this crate's build until the
/// suite covers it.
pub fn covered(spec: KeySpec) -> bool {
    match spec {
        KeySpec::AliyunAes256 | KeySpec::AliyunSm4 => SYMMETRIC_SPECS.contains(&spec),
        KeySpec::Rsa2048
        | KeySpec::Rsa3072
        | KeySpec::Rsa4096
        | KeySpec::EcP256
        | KeySpec::EcP256K
        | KeySpec::EcSm2 => PAIR_SPECS.contains(&spec),
    }
}

/// The reference blobs an independent implementation made (`testdata/ciphertext`).
const VECTORS: &str = include_str!("../../../testdata/ciphertext/v1.json");

const SALT: [u8; 12] = [0x11; 12];
const NONCE: [u8; 12] = [0x22; 12];
const AAD: &[u8] = b"header and context";

pub(crate) fn bind() -> KeyBinding<'static> {
    KeyBinding::version(
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "5c6d7e8f-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
    )
}

fn message() -> Message<'static> {
    Message {
        salt: &SALT,
        nonce: &NONCE,
        aad: AAD,
    }
}

fn symmetric(key: &LoadedKey) -> &dyn SymmetricKey {
    key.symmetric()
        .expect("a symmetric spec loads a symmetric key")
}

fn fresh_key(p: &dyn KeyProvider, spec: KeySpec) -> (StoredKey, LoadedKey) {
    let stored = p
        .generate(spec, KeyUsage::EncryptDecrypt, &bind())
        .expect("generate");
    let loaded = p
        .load(spec, &stored, &bind())
        .expect("load what was generated");
    (stored, loaded)
}

fn seal(key: &dyn SymmetricKey, message: &Message<'_>, plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    key.seal(message, plaintext, &mut out).expect("seal");
    out
}

fn material(spec: KeySpec, seed: u8) -> Vec<u8> {
    (0..spec.material_len())
        .map(|i| seed.wrapping_add(i as u8))
        .collect()
}

/// `name` is a short lowercase word, fit for logs and configuration.
pub fn name_is_a_short_lowercase_word(p: &dyn KeyProvider, profile: &Profile) {
    assert!(
        profile.specs.contains(&KeySpec::AliyunAes256),
        "every provider offers AES-256"
    );
    let name = p.name();
    assert!(!name.is_empty() && name.len() <= 16, "{name}");
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
}

/// For every spec: generate, load, then seal and open messages of several sizes.
pub fn generate_load_round_trip_every_spec(p: &dyn KeyProvider, profile: &Profile) {
    for spec in profile.specs() {
        assert!(covered(spec));
        let (_, loaded) = fresh_key(p, spec);
        assert_eq!(loaded.spec(), spec);
        let key = symmetric(&loaded);
        assert_eq!(key.spec(), spec);
        for len in [0, 1, 32, 1000, 6144] {
            let plaintext = vec![0xa5; len];
            let sealed = seal(key, &message(), &plaintext);
            assert_eq!(sealed.len(), len + TAG_LEN, "{spec:?} {len}");
            let opened = key.open(&message(), &sealed).expect("open what was sealed");
            assert!(opened.ct_eq(&plaintext), "{spec:?} {len}");
        }
    }
    for spec in SYMMETRIC_SPECS
        .iter()
        .filter(|s| !profile.specs.contains(s))
    {
        let refused = p.generate(*spec, KeyUsage::EncryptDecrypt, &bind());
        assert!(
            matches!(refused, Err(KmsError::UnsupportedOperation)),
            "{spec:?} is not offered"
        );
    }
}

/// Seal appends ciphertext ‖ tag after what the buffer already holds (the blob header).
pub fn seal_appends_after_what_out_holds(p: &dyn KeyProvider, profile: &Profile) {
    for spec in profile.specs() {
        let (_, loaded) = fresh_key(p, spec);
        let key = symmetric(&loaded);
        let mut out = b"header".to_vec();
        key.seal(&message(), b"secret", &mut out).expect("seal");
        assert_eq!(&out[..6], b"header");
        assert_eq!(out.len(), 6 + 6 + TAG_LEN);
        let opened = key.open(&message(), &out[6..]).expect("open");
        assert!(opened.ct_eq(b"secret"));
    }
}

/// Two generated keys have different material: the same message seals differently.
pub fn generated_keys_differ(p: &dyn KeyProvider, profile: &Profile) {
    for spec in profile.specs() {
        let (_, a) = fresh_key(p, spec);
        let (_, b) = fresh_key(p, spec);
        let sealed = seal(symmetric(&a), &message(), b"same");
        assert_ne!(sealed, seal(symmetric(&b), &message(), b"same"));
        assert!(symmetric(&b).open(&message(), &sealed).is_err());
    }
}

/// A stored key, generated or imported, loads only for its own key id and version id.
pub fn wrong_binding_fails_to_load(p: &dyn KeyProvider, profile: &Profile) {
    let b = bind();
    let others = [
        KeyBinding::version("another-key", b.version_id),
        KeyBinding::version(b.key_id, "another-version"),
        KeyBinding::version(b.version_id, b.key_id),
    ];
    for spec in profile.specs() {
        let mut stored_keys = vec![
            p.generate(spec, KeyUsage::EncryptDecrypt, &b)
                .expect("generate"),
        ];
        if profile.imports {
            let material = SecretBytes::new(material(spec, 1));
            stored_keys.push(p.import(spec, material, &b).expect("import"));
        }
        for stored in &stored_keys {
            for other in &others {
                let loaded = p.load(spec, stored, other);
                assert!(matches!(loaded, Err(KmsError::Corrupt)), "{other:?}");
            }
        }
    }
}

/// A stored key with a flipped bit, cut short, or empty is [`KmsError::Corrupt`].
pub fn damaged_stored_key_fails_to_load(p: &dyn KeyProvider, profile: &Profile) {
    for spec in profile.specs() {
        let bytes = p
            .generate(spec, KeyUsage::EncryptDecrypt, &bind())
            .expect("generate")
            .into_bytes();
        let mut damaged = Vec::new();
        for i in [0, bytes.len() / 2, bytes.len() - 1] {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            damaged.push(b);
        }
        damaged.push(bytes[..bytes.len() - 1].to_vec());
        damaged.push(Vec::new());
        for d in damaged {
            let loaded = p.load(spec, &StoredKey::from_bytes(d), &bind());
            assert!(matches!(loaded, Err(KmsError::Corrupt)));
        }
    }
}

/// A key stored for one spec does not load as another.
pub fn spec_mismatch_fails_to_load(p: &dyn KeyProvider, profile: &Profile) {
    for made in profile.specs() {
        let stored = p
            .generate(made, KeyUsage::EncryptDecrypt, &bind())
            .expect("generate");
        for other in SYMMETRIC_SPECS.iter().filter(|s| **s != made) {
            let loaded = p.load(*other, &stored, &bind());
            assert!(
                matches!(loaded, Err(KmsError::Corrupt)),
                "{made:?} as {other:?}"
            );
        }
    }
}

/// Wrong AAD, salt or nonce, any flipped bit, and any truncation fail to open, always with
/// the one undetailed [`KmsError::InvalidCiphertext`].
pub fn tampering_fails_to_open(p: &dyn KeyProvider, profile: &Profile) {
    for spec in profile.specs() {
        let (_, loaded) = fresh_key(p, spec);
        let key = symmetric(&loaded);
        let sealed = seal(key, &message(), b"attack at dawn");
        let refused =
            |m: &Message<'_>, s: &[u8]| matches!(key.open(m, s), Err(KmsError::InvalidCiphertext));
        let m = message();
        assert!(refused(&Message { aad: b"other", ..m }, &sealed));
        assert!(refused(&Message { aad: b"", ..m }, &sealed));
        // The HSM format has no salt: its keys take the message's salt as no input.
        assert!(
            direct(key)
                || refused(
                    &Message {
                        salt: &[0; 12],
                        ..m
                    },
                    &sealed
                )
        );
        assert!(refused(
            &Message {
                nonce: &[0; 12],
                ..m
            },
            &sealed
        ));
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x80;
            assert!(refused(&m, &bad), "{spec:?} bit flipped at {i}");
        }
        for len in [0, 1, TAG_LEN - 1, TAG_LEN, sealed.len() - 1] {
            assert!(refused(&m, &sealed[..len]), "{spec:?} cut to {len}");
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert!(refused(&m, &longer));
    }
}

/// Imported material of any length but the spec's is refused as an invalid parameter.
pub fn import_of_wrong_length_is_refused(p: &dyn KeyProvider, profile: &Profile) {
    for spec in profile.specs() {
        let n = spec.material_len();
        for len in [0, 1, n - 1, n + 1, 2 * n, 64] {
            let material = SecretBytes::new(vec![7; len]);
            let imported = p.import(spec, material, &bind());
            assert!(
                matches!(imported, Err(KmsError::InvalidParameter { .. })),
                "{spec:?} {len}"
            );
        }
        if !profile.imports {
            let material = SecretBytes::new(material(spec, 2));
            let imported = p.import(spec, material, &bind());
            assert!(matches!(imported, Err(KmsError::UnsupportedOperation)));
        }
    }
}

/// A key imported from known bytes seals what the independent [`reference`] opens, and opens
/// what it seals.
///
/// A provider that does not import is checked against an independent implementation in its
/// own crate instead (its material cannot be known here).
pub fn imported_key_interoperates_with_the_reference(p: &dyn KeyProvider, profile: &Profile) {
    if !profile.imports {
        return;
    }
    for spec in profile.specs() {
        let bytes = material(spec, 0x40);
        let stored = p
            .import(spec, SecretBytes::new(bytes.clone()), &bind())
            .expect("import");
        let loaded = p.load(spec, &stored, &bind()).expect("load");
        let key = symmetric(&loaded);
        let plaintext = b"interoperable plaintext";
        let sealed = seal(key, &message(), plaintext);
        let opened = reference::open(spec, &bytes, &SALT, &NONCE, AAD, &sealed);
        assert_eq!(opened.as_deref(), Some(&plaintext[..]), "{spec:?}");
        let theirs = reference::seal(spec, &bytes, &SALT, &NONCE, AAD, plaintext);
        assert_eq!(
            theirs, sealed,
            "{spec:?}: deterministic given salt and nonce"
        );
        let opened = key.open(&message(), &theirs).expect("open the reference's");
        assert!(opened.ct_eq(plaintext));
    }
}

/// Known answers: a key imported from each reference vector's material opens its blob and
/// reseals it to the same bytes.
pub fn imported_key_opens_the_reference_blobs(p: &dyn KeyProvider, profile: &Profile) {
    if !profile.imports {
        return;
    }
    let all: Value = serde_json::from_str(VECTORS).expect("the vectors parse");
    let vectors = all["vectors"].as_array().expect("a vector list");
    assert!(vectors.len() >= 4);
    for v in vectors {
        check_vector(p, v);
    }
}

fn check_vector(p: &dyn KeyProvider, v: &Value) {
    let text = |field: &str| v[field].as_str().expect("a text field");
    let spec = KeySpec::parse(text("key_spec")).expect("a known spec");
    let blob = base64::engine::general_purpose::STANDARD
        .decode(text("ciphertext_blob"))
        .expect("base64");
    let material = SecretBytes::new(unhex(text("material_hex")));
    let stored = p.import(spec, material, &bind()).expect("import");
    let key = p.load(spec, &stored, &bind()).expect("load");
    let parsed = ciphertext::parse(&blob).expect("the blob parses");
    let context = EncryptionContext::from_json(&v["encryption_context"].to_string())
        .expect("the context parses");
    let aad = ciphertext::associated_data(parsed.header, &context.canonical_bytes());
    let m = Message {
        salt: parsed.salt,
        nonce: parsed.nonce,
        aad: &aad,
    };
    let opened = symmetric(&key).open(&m, parsed.sealed).expect("open");
    let plaintext = unhex(text("plaintext_hex"));
    assert!(opened.ct_eq(&plaintext), "{}", text("version_id"));
    let mut again = parsed.header.to_vec();
    symmetric(&key)
        .seal(&m, &plaintext, &mut again)
        .expect("seal");
    assert_eq!(again, blob, "resealing {}", text("version_id"));
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// One loaded key seals and opens from many threads at once, and each thread opens what
/// another sealed.
pub fn loaded_keys_serve_many_threads(p: &dyn KeyProvider, profile: &Profile) {
    for spec in profile.specs() {
        let (_, loaded) = fresh_key(p, spec);
        let shared = seal(symmetric(&loaded), &message(), b"from the main thread");
        std::thread::scope(|s| {
            for t in 0..8u8 {
                let key = loaded.clone();
                let shared = &shared;
                s.spawn(move || use_from_thread(&key, t, shared));
            }
        });
    }
}

fn use_from_thread(key: &LoadedKey, t: u8, shared: &[u8]) {
    let key = symmetric(key);
    for i in 0..200u8 {
        let salt = [t; 12];
        let nonce = [i; 12];
        let m = Message {
            salt: &salt,
            nonce: &nonce,
            aad: AAD,
        };
        let sealed = seal(key, &m, &[t, i]);
        assert!(key.open(&m, &sealed).expect("open").ct_eq(&[t, i]));
    }
    let opened = key.open(&message(), shared).expect("open the shared blob");
    assert!(opened.ct_eq(b"from the main thread"));
}
