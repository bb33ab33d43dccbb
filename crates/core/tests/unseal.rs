//! The Shamir seal over a store: `initialise` once over an empty store, its record read back
//! by another "node" of the same store, the shares giving a root key the service opens with,
//! and init refused on an initialised store or on one holding another root key's data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use openkms_core::unseal::{self, InitError, Progress, Submitted};
use openkms_core::{KeyService, OsRandom, RootKey, ServiceConfig, Store, SystemClock};
use openkms_store_tests::memory::MemoryStore as MemStore;

fn config() -> ServiceConfig {
    ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: None,
        cache_ttl_ms: None,
    }
}

async fn open(store: &Arc<dyn Store>, root: RootKey) -> Result<KeyService, String> {
    let rng = Arc::new(OsRandom::new());
    KeyService::open(store.clone(), root, Arc::new(SystemClock), rng, config())
        .await
        .map_err(|e| e.to_string())
}

fn text(share: &openkms_core::shamir::Share) -> String {
    String::from_utf8(share.to_text().expose_secret().to_vec()).unwrap()
}

#[tokio::test]
async fn initialise_once_then_any_threshold_of_shares_opens_the_service() {
    let store: Arc<dyn Store> = Arc::new(MemStore::default());
    let rng = OsRandom::new();
    assert!(unseal::read_record(store.as_ref()).await.unwrap().is_none());
    let (root, shares) = unseal::initialise(store.as_ref(), &rng, 4, 2)
        .await
        .unwrap();
    open(&store, root).await.unwrap();
    let again = unseal::initialise(store.as_ref(), &rng, 4, 2).await;
    assert!(matches!(again, Err(InitError::AlreadyInitialised)));
    let record = unseal::read_record(store.as_ref()).await.unwrap().unwrap();
    assert_eq!((record.threshold(), record.shares()), (2, 4));
    let mut progress = Progress::default();
    assert!(matches!(
        progress.submit(&record, &text(&shares[3])),
        Ok(Submitted::Need {
            have: 1,
            threshold: 2
        })
    ));
    let Ok(Submitted::Complete(root)) = progress.submit(&record, &text(&shares[1])) else {
        panic!("two of four shares give the root key");
    };
    open(&store, root)
        .await
        .expect("the check value opens under the key from shares");
    assert!(
        open(&store, RootKey::generate(&rng)).await.is_err(),
        "another key does not"
    );
}

#[tokio::test]
async fn initialise_refuses_a_store_of_another_root_key_and_bad_counts() {
    let store: Arc<dyn Store> = Arc::new(MemStore::default());
    let rng = OsRandom::new();
    let bad = unseal::initialise(store.as_ref(), &rng, 3, 1).await;
    assert!(matches!(bad, Err(InitError::Parameters(_))));
    assert!(
        unseal::read_record(store.as_ref()).await.unwrap().is_none(),
        "nothing recorded"
    );
    open(&store, RootKey::generate(&rng)).await.unwrap();
    let refused = unseal::initialise(store.as_ref(), &rng, 3, 2).await;
    assert!(matches!(refused, Err(InitError::NotEmpty)));
}
