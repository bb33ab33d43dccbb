//! The key service over a key provider handed in: it generates and loads through the provider,
//! caches loaded keys (so Encrypt and Decrypt call no provider once a key is warm), and what
//! it stores opens again in a service built with the default constructor.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use openkms_core::service::CreateKeyInput;
use openkms_core::*;

use common::CountingProvider;
use openkms_store_tests::memory::MemoryStore as MemStore;

const ROOT: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn config() -> ServiceConfig {
    ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: Some("1234567890123456".into()),
        cache_ttl_ms: None,
    }
}

fn input() -> CreateKeyInput {
    CreateKeyInput::of_spec(KeySpec::AliyunSm4)
}

#[tokio::test]
async fn the_service_uses_the_provider_and_caches_loaded_keys() {
    let store = Arc::new(MemStore::default());
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom::new());
    let root = Arc::new(RootKey::from_base64(ROOT).unwrap());
    let provider = CountingProvider::new(root.clone(), rng.clone());
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let svc = KeyService::open_with_provider(
        store.clone(),
        root,
        provider.clone(),
        clock.clone(),
        rng.clone(),
        config(),
    )
    .await
    .unwrap();
    let key = svc.create_key(input()).await.unwrap();
    let r = KeyRef::Id(key.key_id.clone());
    let ctx = EncryptionContext::empty();
    let first = svc.encrypt(&r, b"before rotation", &ctx).await.unwrap();
    svc.create_key_version(&key.key_id).await.unwrap();
    for _ in 0..20 {
        let blob = svc.encrypt(&r, b"warm", &ctx).await.unwrap().blob;
        svc.decrypt(&blob, &ctx).await.unwrap();
    }
    let opened = svc.decrypt(&first.blob, &ctx).await.unwrap();
    assert_eq!(opened.plaintext.expose_secret(), b"before rotation");
    assert_eq!(provider.made(), 2);
    assert_eq!(provider.loaded(), 2);

    let root = RootKey::from_base64(ROOT).unwrap();
    let again = KeyService::open(store, root, clock, rng, config())
        .await
        .unwrap();
    let opened = again.decrypt(&first.blob, &ctx).await.unwrap();
    assert_eq!(opened.plaintext.expose_secret(), b"before rotation");
}
