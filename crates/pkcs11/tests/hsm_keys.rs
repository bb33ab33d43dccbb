//! HSM-protected keys through the key service, on a real token (SoftHSM2 by default; see
//! `openkms_pkcs11::testing`): the HSM ciphertext variant checked byte for byte with
//! RustCrypto's AES-256-GCM under a key made extractable for this test only, and the message
//! limit per key version enforced durably (a restart does not reset it, a new version lifts it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use openkms_core::ciphertext::{FORMAT_HSM, HSM_HEADER_LEN, VERSION_ID_LEN};
use openkms_core::service::CreateKeyInput;
use openkms_core::*;
use openkms_pkcs11::{Pkcs11Provider, Token, object_label, testing};
use openkms_store_tests::memory::MemoryStore;

const ROOT: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn config() -> ServiceConfig {
    ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: Some("1234567890123456".into()),
        cache_ttl_ms: None,
    }
}

fn hsm_key() -> CreateKeyInput {
    CreateKeyInput {
        description: String::new(),
        spec: KeySpec::AliyunAes256,
        usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AliyunKms,
        protection_level: ProtectionLevel::Hsm,
        rotation_interval: None,
        tags: vec![],
        policy: None,
    }
}

/// A service over `store` whose HSM keys live in `token` (extractable ones when `readable`).
async fn service(store: &MemoryStore, token: &Arc<Token>, readable: bool) -> KeyService {
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom::new());
    let root = RootKey::from_base64(ROOT).unwrap();
    let hsm = match readable {
        true => Pkcs11Provider::extractable_for_tests(token.clone(), rng.clone()),
        false => Pkcs11Provider::new(token.clone(), rng.clone()),
    };
    let store: Arc<dyn Store> = Arc::new(store.clone());
    KeyService::open(store, root, Arc::new(SystemClock), rng, config())
        .await
        .unwrap()
        .with_hsm_provider(Arc::new(hsm))
}

fn counter(bytes: Vec<u8>) -> u64 {
    u64::from_be_bytes(bytes.try_into().unwrap())
}

#[tokio::test]
async fn hsm_blobs_are_aes_gcm_under_the_token_key_as_documented() {
    let Some(token) = testing::token() else {
        return;
    };
    let store = MemoryStore::default();
    let kms = service(&store, &token, true).await;
    let key = kms.create_key(hsm_key()).await.unwrap();
    assert_eq!(key.protection_level, ProtectionLevel::Hsm);
    let id = KeyRef::Id(key.key_id.clone());
    let context = EncryptionContext::from_json(r#"{"b":"2","a":"1"}"#).unwrap();
    let out = kms.encrypt(&id, b"attack at dawn", &context).await.unwrap();
    let blob = &out.blob;
    assert_eq!(&blob[..VERSION_ID_LEN], key.primary_version.as_bytes());
    assert_eq!(blob[VERSION_ID_LEN], FORMAT_HSM);
    assert_eq!(blob.len(), HSM_HEADER_LEN + 14 + 16);
    // The key's value, readable only because this test made it extractable.
    let version = store
        .get_version(&key.primary_version)
        .await
        .unwrap()
        .unwrap();
    let bind = KeyBinding::version(&key.key_id, &key.primary_version);
    let object_id = &version.wrapped_material[2..18];
    let handle = token.find_key(&object_label(&bind), Some(object_id));
    let material = token.key_value(handle.unwrap().unwrap()).unwrap();
    let cipher = Aes256Gcm::new_from_slice(material.expose_secret()).unwrap();
    let iv: [u8; 12] = blob[VERSION_ID_LEN + 1..HSM_HEADER_LEN].try_into().unwrap();
    let aad = [&blob[..HSM_HEADER_LEN], br#"{"a":"1","b":"2"}"#].concat();
    let payload = Payload {
        msg: &blob[HSM_HEADER_LEN..],
        aad: &aad,
    };
    let opened = cipher.decrypt(&iv.into(), payload).unwrap();
    assert_eq!(opened, b"attack at dawn");
    // And a blob made by RustCrypto in that layout decrypts through the token.
    let payload = Payload {
        msg: b"theirs",
        aad: &aad,
    };
    let theirs = cipher.encrypt(&iv.into(), payload).unwrap();
    let blob = [&blob[..HSM_HEADER_LEN], &theirs].concat();
    let opened = kms.decrypt(&blob, &context).await.unwrap();
    assert!(opened.plaintext.ct_eq(b"theirs"));
    let wrong = EncryptionContext::from_json(r#"{"a":"1"}"#).unwrap();
    let refused = kms.decrypt(&blob, &wrong).await;
    assert!(matches!(refused, Err(KmsError::InvalidCiphertext)));
}

#[tokio::test]
async fn the_stored_version_is_a_reference_and_the_key_cannot_leave_the_token() {
    let Some(token) = testing::token() else {
        return;
    };
    let store = MemoryStore::default();
    let kms = service(&store, &token, false).await;
    let key = kms.create_key(hsm_key()).await.unwrap();
    let version = store
        .get_version(&key.primary_version)
        .await
        .unwrap()
        .unwrap();
    let bind = KeyBinding::version(&key.key_id, &key.primary_version);
    let label = object_label(&bind);
    let stored = &version.wrapped_material;
    assert_eq!(&stored[..2], &[openkms_pkcs11::STORED_REF_V1, 0x01]);
    assert_eq!(
        &stored[18..],
        label.as_bytes(),
        "tag, spec, object id, label: no more"
    );
    let handle = token
        .find_key(&label, Some(&stored[2..18]))
        .unwrap()
        .unwrap();
    assert!(!token.is_extractable(handle).unwrap());
    assert!(
        token.key_value(handle).is_err(),
        "the token refuses to show the value"
    );
}

#[tokio::test]
async fn the_message_limit_holds_across_restarts_and_rotation_lifts_it() {
    let Some(token) = testing::token() else {
        return;
    };
    let store = MemoryStore::default();
    let kms = service(&store, &token, false)
        .await
        .with_hsm_message_limit(5);
    let key = kms.create_key(hsm_key()).await.unwrap();
    let id = KeyRef::Id(key.key_id.clone());
    let none = EncryptionContext::empty();
    let mut blobs = Vec::new();
    for _ in 0..3 {
        blobs.push(kms.encrypt(&id, b"m", &none).await.unwrap().blob);
    }
    kms.generate_data_key(&id, 16, &none).await.unwrap();
    kms.encrypt(&id, b"m", &none).await.unwrap();
    let refused = kms.encrypt(&id, b"m", &none).await;
    assert!(
        matches!(refused, Err(KmsError::KeyVersionExhausted)),
        "the sixth"
    );
    let refused = kms.generate_data_key(&id, 16, &none).await;
    assert!(matches!(refused, Err(KmsError::KeyVersionExhausted)));
    drop(kms);
    // A restart (a new service over the same store) does not give the budget back.
    let kms = service(&store, &token, false)
        .await
        .with_hsm_message_limit(5);
    let refused = kms.encrypt(&id, b"m", &none).await;
    assert!(
        matches!(refused, Err(KmsError::KeyVersionExhausted)),
        "after a restart"
    );
    for blob in &blobs {
        assert!(
            kms.decrypt(blob, &none).await.is_ok(),
            "old blobs still decrypt"
        );
    }
    let version = kms.create_key_version(&key.key_id).await.unwrap();
    let out = kms.encrypt(&id, b"m", &none).await.unwrap();
    assert_eq!(out.version_id, version.version_id, "the new version serves");
}

#[tokio::test]
async fn a_crash_can_waste_budget_but_never_hand_it_out_twice() {
    let Some(token) = testing::token() else {
        return;
    };
    let store = MemoryStore::default();
    let first = service(&store, &token, false).await;
    let first = first.with_hsm_message_limit(10_000);
    let key = first.create_key(hsm_key()).await.unwrap();
    let id = KeyRef::Id(key.key_id.clone());
    let none = EncryptionContext::empty();
    first.encrypt(&id, b"m", &none).await.unwrap();
    let name = format!("hsm-budget/{}", key.primary_version);
    let reserved = counter(store.get_meta(&name).await.unwrap().unwrap());
    assert!(reserved > 1, "a block is reserved before its first use");
    // A second node (or this one after kill -9) starts past everything reserved so far.
    let second = service(&store, &token, false).await;
    let second = second.with_hsm_message_limit(10_000);
    second.encrypt(&id, b"m", &none).await.unwrap();
    let now = counter(store.get_meta(&name).await.unwrap().unwrap());
    assert!(now > reserved, "a block of its own: {reserved} -> {now}");
}

#[tokio::test]
async fn without_a_token_hsm_keys_are_refused() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
    let root = RootKey::from_base64(ROOT).unwrap();
    let rng = Arc::new(OsRandom::new());
    let kms = KeyService::open(store, root, Arc::new(SystemClock), rng, config())
        .await
        .unwrap();
    assert!(!kms.offers_hsm());
    let refused = kms.create_key(hsm_key()).await;
    assert!(matches!(refused, Err(KmsError::UnsupportedProtectionLevel)));
}
