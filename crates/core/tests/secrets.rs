//! The Secrets Manager use cases over the in-memory store with a manual clock: what the store
//! holds (only ciphertext), the deletion window running out (the secret destroyed by the due
//! pass or on its next read), the default key made once, and `Debug` of what carries a value.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use openkms_core::service::secrets::{NewSecret, VersionSelector};
use openkms_core::*;
use openkms_store_tests::memory::MemoryStore;

const T0: i64 = 1_700_000_000;
const ROOT: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const VALUE: &[u8] = b"p@ssw0rd-that-must-never-be-stored-in-the-clear";

async fn service(store: Arc<MemoryStore>, clock: Arc<ManualClock>) -> KeyService {
    let config = ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: Some("1234567890123456".into()),
        cache_ttl_ms: None,
    };
    let root = RootKey::from_base64(ROOT).unwrap();
    KeyService::open(store, root, clock, Arc::new(OsRandom::new()), config)
        .await
        .unwrap()
}

fn new_secret(name: &str) -> NewSecret {
    NewSecret {
        name: name.into(),
        version_id: "v1".into(),
        data: SecretBytes::new(VALUE.to_vec()),
        data_type: SecretDataType::Text,
        secret_type: "Generic".into(),
        key: None,
        description: String::new(),
        tags: vec![],
        policy: None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_store_holds_only_ciphertext_and_the_value_reads_back() {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(ManualClock::new(T0));
    let svc = service(store.clone(), clock).await;
    svc.create_secret(new_secret("db/pw")).await.unwrap();
    let snapshot = store.export_snapshot().await.unwrap();
    assert_eq!(snapshot.secret_versions.len(), 1);
    for v in &snapshot.secret_versions {
        assert!(
            !contains(&v.ciphertext, VALUE),
            "the value is stored in the clear"
        );
        assert!(
            !format!("{v:?}").contains("p@ss"),
            "Debug shows the ciphertext only by length"
        );
    }
    let got = svc
        .get_secret_value("db/pw", &VersionSelector::default())
        .await
        .unwrap();
    assert_eq!(got.data.expose_secret(), VALUE);
    assert!(!format!("{:?}", got.data).contains("p@ss"));
    let default_key = svc.secret_key_id(&got.secret).await.unwrap();
    svc.create_secret(new_secret("db/pw2")).await.unwrap();
    let second = svc.secret("db/pw2").await.unwrap();
    assert_eq!(
        svc.secret_key_id(&second).await.unwrap(),
        default_key,
        "one default key"
    );
}

#[tokio::test]
async fn a_secret_past_its_recovery_window_is_destroyed() {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(ManualClock::new(T0));
    let svc = service(store.clone(), clock.clone()).await;
    for name in ["a", "b"] {
        svc.create_secret(new_secret(name)).await.unwrap();
        let at = svc.delete_secret(name, false, 7).await.unwrap();
        assert_eq!(at, T0 + 7 * 86_400);
    }
    clock.set(T0 + 7 * 86_400 - 1);
    assert_eq!(svc.purge_due_secrets().await.unwrap(), 0);
    assert!(
        svc.secret("a").await.is_ok(),
        "still restorable inside its window"
    );
    clock.set(T0 + 7 * 86_400);
    assert!(matches!(
        svc.secret("b").await,
        Err(KmsError::Secret(SecretError::NotFound))
    ));
    assert_eq!(
        svc.purge_due_secrets().await.unwrap(),
        1,
        "a; b went on its read"
    );
    let snapshot = store.export_snapshot().await.unwrap();
    assert!(snapshot.secrets.is_empty() && snapshot.secret_versions.is_empty());
}
