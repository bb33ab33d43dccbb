//! The checks of [`openkms_core::ImportStore`]: an EXTERNAL key's import state saved with its
//! material in one write under the key's revision rule, unwrap attempts reserved atomically up
//! to a revocation, the first material's fingerprint never replaced (not by other material,
//! not by a delete), a token revoked while its import was in flight refused at the save,
//! revocations never undone by a later save, the state going with its key, and durability
//! across a reopen.

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
        .save_material(&key, &[7; 60], &state, 1)
        .await
        .expect("save_material");
    assert_eq!(store.get_import(id).await.expect("get"), Some(state));
    assert_eq!(store.get_key(id).await.expect("get_key"), Some(key.clone()));
    let version = store.get_version(&new.version.version_id).await.expect("v");
    assert_eq!(version.map(|v| v.wrapped_material), Some(vec![7; 60]));
    let again = imported(id, None);
    let key = next_revision(&key);
    store
        .save_material(&key, &[7; 60], &again, 1)
        .await
        .expect("re-import of the same material");
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
        .save_material(&stale, &[1; 60], &imported(id, None), 1)
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
            1,
        )
        .await;
    assert!(
        matches!(absent, Err(StoreError::NotFound)),
        "a missing key is NotFound: {absent:?}"
    );
    let other = store
        .save_material(
            &next_revision(&new.key),
            &[1],
            &imported("another", None),
            1,
        )
        .await;
    assert!(
        matches!(other, Err(StoreError::ReferenceNotFound)),
        "state of another key is ReferenceNotFound: {other:?}"
    );
}

/// Reservations count up to the limit; the next one revokes and is refused, as is a token
/// issued before a revocation; a settled failure revokes at the limit; a successful save takes
/// its reservation back; a missing key is ReferenceNotFound.
pub async fn import_reservations_revoke_at_the_limit<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = external_key(4);
    create(&store, &new).await;
    let id = &new.key.key_id;
    for i in 1..=10 {
        let reserved = store.reserve_unwrap(id, 100, 10, 1_000 + i).await;
        assert!(reserved.expect("reserve"), "reservation {i} is granted");
    }
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!((got.failed_unwraps, got.tokens_not_before), (10, 0));
    let refused = store.reserve_unwrap(id, 100, 10, 5_000).await;
    assert!(!refused.expect("reserve"), "the eleventh is refused");
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!((got.failed_unwraps, got.tokens_not_before), (0, 5_000));
    assert_eq!(got.fingerprint, None, "counting keeps the rest");
    let revoked = store.reserve_unwrap(id, 4_999, 10, 6_000).await;
    assert!(!revoked.expect("reserve"), "a revoked token is refused");
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!((got.failed_unwraps, got.tokens_not_before), (0, 5_000));
    for _ in 0..2 {
        assert!(
            store
                .reserve_unwrap(id, 5_000, 2, 1)
                .await
                .expect("reserve")
        );
    }
    assert!(
        store
            .settle_failed_unwrap(id, 2, 7_000)
            .await
            .expect("settle"),
        "a failure settled at the limit revokes"
    );
    assert!(
        store
            .reserve_unwrap(id, 7_000, 10, 1)
            .await
            .expect("reserve")
    );
    let key = in_state(&new.key, KeyState::Enabled);
    store
        .save_material(&key, &[2; 60], &imported(id, None), 7_000)
        .await
        .expect("save");
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!(got.failed_unwraps, 0, "a save takes its reservation back");
    let settled = store.settle_failed_unwrap(id, 10, 8_000).await;
    assert!(
        !settled.expect("settle"),
        "below the limit nothing is revoked"
    );
    let missing = store.reserve_unwrap("no-such-key", 1, 10, 1).await;
    assert!(
        matches!(missing, Err(StoreError::ReferenceNotFound)),
        "reserving for a missing key is ReferenceNotFound: {missing:?}"
    );
}

/// Concurrent reservations are all counted, and never more than the limit is granted.
pub async fn import_reservations_count_concurrently<F: StoreFactory>(factory: F) {
    let store = std::sync::Arc::new(factory.open().await);
    let new = external_key(5);
    create(store.as_ref(), &new).await;
    let id = new.key.key_id.clone();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move { store.reserve_unwrap(&id, 1, 8, 2).await })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        granted += usize::from(task.await.expect("task").expect("reserve"));
    }
    assert_eq!(granted, 8, "exactly the limit is granted");
}

/// A revocation is kept by a later save (with a token issued after it); it clears the count.
pub async fn import_revocation_survives_a_save<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = external_key(6);
    create(&store, &new).await;
    let id = &new.key.key_id;
    let read_before = imported(id, None);
    store.reserve_unwrap(id, 1, 10, 1).await.expect("reserve");
    store.revoke_tokens(id, 9_000).await.expect("revoke");
    let key = in_state(&new.key, KeyState::Enabled);
    store
        .save_material(&key, &[3; 60], &read_before, 9_000)
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

/// A save with a token issued before the stored revocation is `TokenRevoked` and writes
/// nothing (an import in flight across a DeleteKeyMaterial or the failure limit).
pub async fn import_save_with_a_revoked_token_is_refused<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = external_key(9);
    create(&store, &new).await;
    let id = &new.key.key_id;
    store.revoke_tokens(id, 9_000).await.expect("revoke");
    let key = in_state(&new.key, KeyState::Enabled);
    let refused = store
        .save_material(&key, &[3; 60], &imported(id, None), 8_999)
        .await;
    assert!(
        matches!(refused, Err(StoreError::TokenRevoked)),
        "a token issued before the revocation is refused: {refused:?}"
    );
    assert_eq!(
        store.get_key(id).await.expect("get_key"),
        Some(new.key.clone())
    );
    let version = store.get_version(&new.version.version_id).await.expect("v");
    assert_eq!(version.map(|v| v.wrapped_material), Some(Vec::new()));
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!(got.fingerprint, None, "nothing written");
}

/// A second save with another fingerprint is `MaterialMismatch`, writes nothing, and the
/// first material and fingerprint stay.
pub async fn import_other_material_is_refused<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = external_key(10);
    create(&store, &new).await;
    let id = &new.key.key_id;
    let key = in_state(&new.key, KeyState::Enabled);
    let first = imported(id, None);
    store
        .save_material(&key, &[4; 60], &first, 1)
        .await
        .expect("first import");
    let other = ImportRecord {
        fingerprint: Some(vec![0xcd; 32]),
        ..imported(id, None)
    };
    let refused = store
        .save_material(&next_revision(&key), &[5; 60], &other, 1)
        .await;
    assert!(
        matches!(refused, Err(StoreError::MaterialMismatch)),
        "other material is refused: {refused:?}"
    );
    assert_eq!(store.get_key(id).await.expect("get_key"), Some(key.clone()));
    let version = store.get_version(&new.version.version_id).await.expect("v");
    assert_eq!(version.map(|v| v.wrapped_material), Some(vec![4; 60]));
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!(
        got.fingerprint, first.fingerprint,
        "the first fingerprint stays"
    );
}

/// A delete empties the material and revokes the tokens but keeps the fingerprint, so a
/// later import of other material is still refused.
pub async fn import_delete_keeps_the_fingerprint<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = external_key(11);
    create(&store, &new).await;
    let id = &new.key.key_id;
    let key = in_state(&new.key, KeyState::Enabled);
    let first = imported(id, Some(1_900_000_000));
    store
        .save_material(&key, &[6; 60], &first, 1)
        .await
        .expect("first import");
    store.reserve_unwrap(id, 1, 10, 2).await.expect("reserve");
    let deleted = in_state(&key, KeyState::PendingImport);
    store
        .delete_material(&deleted, 7_000, true)
        .await
        .expect("delete material");
    assert_eq!(
        store.get_key(id).await.expect("get_key"),
        Some(deleted.clone())
    );
    let version = store.get_version(&new.version.version_id).await.expect("v");
    assert_eq!(version.map(|v| v.wrapped_material), Some(Vec::new()));
    let got = store.get_import(id).await.expect("get").expect("state");
    assert_eq!(got.fingerprint, first.fingerprint, "the fingerprint stays");
    assert_eq!((got.tokens_not_before, got.failed_unwraps), (7_000, 0));
    assert!(
        got.disabled_before_delete,
        "the state before the delete is kept"
    );
    let other = ImportRecord {
        fingerprint: Some(vec![0xcd; 32]),
        ..imported(id, None)
    };
    let refused = store
        .save_material(&next_revision(&deleted), &[5; 60], &other, 7_000)
        .await;
    assert!(
        matches!(refused, Err(StoreError::MaterialMismatch)),
        "other material after a delete is refused: {refused:?}"
    );
    let stale = store
        .delete_material(&in_state(&key, KeyState::PendingImport), 8_000, false)
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict)),
        "a delete at a stale revision is Conflict: {stale:?}"
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
            .save_material(&key, &[9; 60], &state, 1)
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
