//! Nonces under concurrent writers: one winner per nonce, new or expired.

use std::sync::Arc;

use openkms_core::StoreError;

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::race::race;

/// How many of `results` are `Ok(true)`; every result must be `Ok`.
fn count_recorded(results: Vec<(u32, Result<bool, StoreError>)>, what: &str) -> usize {
    let mut recorded = 0;
    for (i, result) in results {
        match result {
            Ok(true) => recorded += 1,
            Ok(false) => {}
            Err(other) => panic!("{what} {i}: unexpected {other:?}"),
        }
    }
    recorded
}

/// 64 concurrent `use_nonce` of one new nonce: exactly one `true`; then 64 racing to replace
/// an expired record of another nonce: again exactly one `true`.
pub async fn concurrent_use_nonce_has_one_winner<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    let results = race(&store, 64, |store, _| async move {
        store.use_nonce("ak-1", "contended", 2_000, 1_000).await
    })
    .await;
    let recorded = count_recorded(results, "racing use_nonce");
    assert_eq!(
        recorded, 1,
        "exactly one racing use_nonce records the nonce"
    );
    assert!(
        store
            .use_nonce("ak-1", "expired", 999, 500)
            .await
            .expect("use_nonce"),
        "a new nonce is recorded"
    );
    let results = race(&store, 64, |store, _| async move {
        store.use_nonce("ak-1", "expired", 2_000, 1_000).await
    })
    .await;
    let recorded = count_recorded(results, "racing reuse of an expired nonce");
    assert_eq!(
        recorded, 1,
        "exactly one racing use_nonce replaces the expired record"
    );
}
