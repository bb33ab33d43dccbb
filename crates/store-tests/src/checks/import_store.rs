//! The checks of [`openkms_core::ImportStore`]: an EXTERNAL key's import state saved with its
//! material in one write under the key's revision rule, failed unwraps counted atomically up
//! to a revocation, revocations never undone by a later save, the state going with its key,
//! and durability across a reopen.

use openkms_core::{ImportRecord, ImportStore, KeyRecord, KeyState, Origin, StoreError};

use crate::StoreFactory;
use crate::checks::create;
use crate::checks::prelude::*;
use crate::fixtures::{NewKey, minimal_key, next_revision};

/// An EXTERNAL key `n` in PendingImport whose version holds no material.
pub(crate) fn external_key(n: u32) -> NewKey {
    let mut new = minimal_key(n);
    new.key.origin = Origin::External;
    new.key.state = KeyState::PendingImport;
    new.version.wrapped_material = Vec::new();
    new
}

/// The state after a first import into `key_id`.
pub(crate) fn imported(key_id: &str, expire: Option<i64>) -> ImportRecord {
    ImportRecord {
        fingerprint: Some(vec![0xab; 32]),
        material_expire_at: expire,
        ..ImportRecord::fresh(key_id)
    }
}

/// `key` at its next revision in `state`.
fn in_state(key: &KeyRecord, state: KeyState) -> KeyRecord {
    KeyRecord {
        state,
        ..next_revision(key)
    }
}

/// No state before a write; a save writes key, material and state together and reads back.
pub async fn import_save_material_round_trips<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = external_key(1);
    create(&store, &new).await;
    let id = &new.key.key_id;
    assert_eq!(
        store.get_import(id).await.expect("get"),
        None,
        "no state yet"
    );
    let key = in_state(&new.key, KeyState::Enabled);
    let state = imported(id, Some(1_900_000_000));
    store
        .save_material(&key, &[7; 60], &state)
        .await
        .expect("save_material");
    assert_eq!(store.get_import(id).await.expect("get"), Some(state));
    assert_eq!(store.get_key(id).await.expect("get_key"), Some(key.clone()));
    let version = store.get_version(&new.version.version_id).await.expect("v");
    assert_eq!(version.map(|v| v.wrapped_material), Some(vec![7; 60]));
    let deleted = in_state(&key, KeyState::PendingImport);
    store
        .save_material(&deleted, &[], &imported(id, None))
        .await
        .expect("delete material");
    let version = store.get_version(&new.version.version_id).await.expect("v");
    assert_eq!(version.map(|v| v.wrapped_material), Some(Vec::new()));
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!(got.material_expire_at, None, "the expiry is replaced");
}

/// A stale revision is Conflict and writes nothing; a missing key is NotFound; state of
/// another key is ReferenceNotFound.
pub async fn import_save_material_checks_revision<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = external_key(2);
    create(&store, &new).await;
    let id = &new.key.key_id;
    let stale = KeyRecord {
        revision: 5,
        ..new.key.clone()
    };
    let conflict = store
        .save_material(&stale, &[1; 60], &imported(id, None))
        .await;
    assert!(
        matches!(conflict, Err(StoreError::Conflict)),
        "a stale revision is Conflict: {conflict:?}"
    );
    assert_eq!(
        store.get_import(id).await.expect("get"),
        None,
        "nothing written"
    );
    let version = store.get_version(&new.version.version_id).await.expect("v");
    assert_eq!(version.map(|v| v.wrapped_material), Some(Vec::new()));
    let missing = external_key(3);
    let absent = store
        .save_material(
            &next_revision(&missing.key),
            &[1],
            &imported(&missing.key.key_id, None),
        )
        .await;
    assert!(
        matches!(absent, Err(StoreError::NotFound)),
        "a missing key is NotFound: {absent:?}"
    );
    let other = store
        .save_material(&next_revision(&new.key), &[1], &imported("another", None))
        .await;
    assert!(
        matches!(other, Err(StoreError::ReferenceNotFound)),
        "state of another key is ReferenceNotFound: {other:?}"
    );
}

/// Failures count up to the limit, which revokes and restarts the count; a missing key is
/// ReferenceNotFound.
pub async fn import_failures_revoke_at_the_limit<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = external_key(4);
    create(&store, &new).await;
    let id = &new.key.key_id;
    for i in 1..10 {
        let revoked = store.count_failed_unwrap(id, 10, 1_000 + i).await;
        assert!(!revoked.expect("count"), "failure {i} does not revoke");
    }
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!((got.failed_unwraps, got.tokens_not_before), (9, 0));
    assert!(
        store
            .count_failed_unwrap(id, 10, 5_000)
            .await
            .expect("count")
    );
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!((got.failed_unwraps, got.tokens_not_before), (0, 5_000));
    assert_eq!(got.fingerprint, None, "counting keeps the rest");
    let missing = store.count_failed_unwrap("no-such-key", 10, 1).await;
    assert!(
        matches!(missing, Err(StoreError::ReferenceNotFound)),
        "counting for a missing key is ReferenceNotFound: {missing:?}"
    );
}

/// Concurrent failures are all counted.
pub async fn import_failures_count_concurrently<F: StoreFactory>(factory: F) {
    let store = std::sync::Arc::new(factory.open().await);
    let new = external_key(5);
    create(store.as_ref(), &new).await;
    let id = new.key.key_id.clone();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move { store.count_failed_unwrap(&id, 100, 1).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("count");
    }
    let got = store.get_import(&id).await.expect("get").expect("state");
    assert_eq!(got.failed_unwraps, 8, "no failure is lost");
}

/// A revocation is kept by a later save that read the state before it; it clears the count.
pub async fn import_revocation_survives_a_save<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = external_key(6);
    create(&store, &new).await;
    let id = &new.key.key_id;
    let read_before = imported(id, None);
    store.count_failed_unwrap(id, 10, 1).await.expect("count");
    store.revoke_tokens(id, 9_000).await.expect("revoke");
    let key = in_state(&new.key, KeyState::Enabled);
    store
        .save_material(&key, &[3; 60], &read_before)
        .await
        .expect("save");
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!((got.tokens_not_before, got.failed_unwraps), (9_000, 0));
    assert_eq!(got.fingerprint, read_before.fingerprint);
    let missing = store.revoke_tokens("no-such-key", 1).await;
    assert!(
        matches!(missing, Err(StoreError::ReferenceNotFound)),
        "revoking for a missing key is ReferenceNotFound: {missing:?}"
    );
}

/// The state goes with its key, and survives a reopen while the key lives.
pub async fn import_state_goes_with_its_key_and_survives_reopen<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let (kept, gone) = (external_key(7), external_key(8));
    create(&store, &kept).await;
    create(&store, &gone).await;
    for new in [&kept, &gone] {
        let key = in_state(&new.key, KeyState::Enabled);
        let state = imported(&new.key.key_id, Some(1_900_000_000));
        store
            .save_material(&key, &[9; 60], &state)
            .await
            .expect("save");
    }
    store.destroy_key(&gone.key.key_id).await.expect("destroy");
    drop(store);
    let store = factory.open().await;
    let got = store.get_import(&kept.key.key_id).await.expect("get");
    assert_eq!(got, Some(imported(&kept.key.key_id, Some(1_900_000_000))));
    let got = store.get_import(&gone.key.key_id).await.expect("get");
    assert_eq!(got, None, "a destroyed key's state is gone");
}
