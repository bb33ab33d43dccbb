//! Keys under concurrent writers: no write lost or merged with another, one write's failure
//! not spilling onto the writes beside it, and one winner per revision.

use std::sync::Arc;

use openkms_core::StoreError;

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::race::{one_winner, race};
use crate::checks::{
    assert_already_exists, assert_key_stored, assert_reference_not_found, create, read_key,
    versions,
};
use crate::fixtures::{
    alias, disabled_key, extra_version, full_key, key_id, minimal_key, next_revision, rotated,
};

/// 200 concurrent `create_key` of distinct keys all succeed and all read back exactly.
pub async fn concurrent_create_key_all_succeed<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    let results = race(&store, 200, |store, i| async move {
        let new = disabled_key(i);
        store.create_key(&new.key, &new.version, &new.tags).await
    })
    .await;
    for (i, result) in results {
        assert!(result.is_ok(), "racing create_key {i}: {result:?}");
    }
    let reads = race(&store, 200, |store, i| async move {
        assert_key_stored(&*store, &disabled_key(i)).await;
    })
    .await;
    assert_eq!(reads.len(), 200, "every key was read back");
}

/// One write of four kinds, chosen by `i % 4`; kinds 1 and 2 must fail.
async fn mixed_write(store: &impl Store, i: u32) -> Result<(), StoreError> {
    match i % 4 {
        0 => {
            let new = disabled_key(i + 1);
            store.create_key(&new.key, &new.version, &new.tags).await
        }
        1 => store.create_alias(&alias("alias/taken", &key_id(0))).await,
        2 => {
            let missing = key_id(1_000_000 + i);
            store
                .create_alias(&alias(&format!("alias/dangling-{i}"), &missing))
                .await
        }
        _ => {
            store
                .create_alias(&alias(&format!("alias/ok-{i}"), &key_id(0)))
                .await
        }
    }
}

/// Failing writes racing with good ones fail alone: every good write is kept, no bad one is.
pub async fn concurrent_failures_are_isolated<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    create(&*store, &minimal_key(0)).await;
    store
        .create_alias(&alias("alias/taken", &key_id(0)))
        .await
        .expect("create_alias");
    let results = race(&store, 160, |store, i| async move {
        mixed_write(&*store, i).await
    })
    .await;
    for (i, result) in results {
        let what = format!("racing write {i} of kind {}", i % 4);
        match i % 4 {
            1 => assert_already_exists(result, &what),
            2 => assert_reference_not_found(result, &what),
            _ => assert!(result.is_ok(), "{what}: {result:?}"),
        }
    }
    for i in 0..160 {
        match i % 4 {
            0 => assert_key_stored(&*store, &disabled_key(i + 1)).await,
            1 => {}
            2 => {
                let kept = store.get_alias(&format!("alias/dangling-{i}")).await;
                assert_eq!(
                    kept.expect("get_alias"),
                    None,
                    "refused alias {i} was not kept"
                );
            }
            _ => {
                let kept = store
                    .get_alias(&format!("alias/ok-{i}"))
                    .await
                    .expect("get_alias");
                assert_eq!(
                    kept.map(|a| a.key_id),
                    Some(key_id(0)),
                    "alias {i} was kept"
                );
            }
        }
    }
}

/// 32 concurrent `update_key` made from the same read: one `Ok`, 31 `Conflict`, and the
/// stored key is the winner's.
pub async fn concurrent_update_key_has_one_winner<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    create(&*store, &full_key(1)).await;
    let read = read_key(&*store, &key_id(1)).await.expect("the key exists");
    let change = |i: u32| {
        let mut key = next_revision(&read);
        key.description = format!("writer {i}");
        key
    };
    let results = race(&store, 32, |store, i| {
        let key = change(i);
        async move { store.update_key(&key).await }
    })
    .await;
    let winner = one_winner(results, "racing update_key");
    let stored = read_key(&*store, &key_id(1)).await;
    assert_eq!(stored, Some(change(winner)), "the key is the winner's");
}

/// 32 concurrent `add_version` made from the same read: one `Ok`, 31 `Conflict`, and only
/// the winner's version exists beside the first.
pub async fn concurrent_add_version_has_one_winner<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    let first = minimal_key(1);
    create(&*store, &first).await;
    let results = race(&store, 32, |store, i| {
        let version = extra_version(1, i, 1_000 + i64::from(i));
        let key = rotated(&first.key, &version);
        async move { store.add_version(&key, &version).await }
    })
    .await;
    let winner = one_winner(results, "racing add_version");
    let won = extra_version(1, winner, 1_000 + i64::from(winner));
    let stored = read_key(&*store, &key_id(1)).await;
    assert_eq!(
        stored,
        Some(rotated(&first.key, &won)),
        "the key is the winner's"
    );
    let listed = versions(&*store, &key_id(1)).await;
    assert_eq!(
        listed,
        vec![first.version, won],
        "no loser's version was kept"
    );
}

/// Read, change, `update_key`, and on `Conflict` read again: appends `[i]` to the
/// description.
async fn append_with_retry(store: &impl Store, i: u32) {
    for _ in 0..1_000 {
        let read = read_key(store, &key_id(1)).await.expect("the key exists");
        let mut key = next_revision(&read);
        key.description.push_str(&format!("[{i}]"));
        match store.update_key(&key).await {
            Ok(()) => return,
            Err(StoreError::Conflict) => continue,
            Err(other) => panic!("read-modify-write {i}: unexpected {other:?}"),
        }
    }
    panic!("read-modify-write {i} never won over 1000 attempts");
}

/// 16 concurrent read-modify-write loops retrying on `Conflict`: no change is lost, and the
/// revision counts every one.
pub async fn concurrent_retried_updates_lose_nothing<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    create(&*store, &minimal_key(1)).await;
    race(&store, 16, |store, i| async move {
        append_with_retry(&*store, i).await;
    })
    .await;
    let key = read_key(&*store, &key_id(1)).await.expect("the key exists");
    assert_eq!(key.revision, 17, "16 updates over revision 1");
    for i in 0..16 {
        let mark = format!("[{i}]");
        assert_eq!(
            key.description.matches(&mark).count(),
            1,
            "{mark} kept once"
        );
    }
}
