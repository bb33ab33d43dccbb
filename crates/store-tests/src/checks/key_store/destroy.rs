//! Checks for `destroy_key` and `is_destroyed_version`.
//!
//! Owns the rule that destroying a key removes its record, every version, its aliases and
//! tags (so every read and list behaves as if they never existed) while remembering the
//! destroyed version ids, and that other keys are untouched. Whether the bytes are gone from
//! the medium is backend-specific and tested with each backend.

use openkms_core::VersionRecord;

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::{
    assert_key_stored, assert_not_found, assert_reference_not_found, create, read_key, versions,
};
use crate::fixtures::{
    MAX_TAGS, NewKey, alias, extra_version, extra_version_id, full_key, key_id, minimal_key,
    next_revision, rotated, tag,
};

/// Creates key `n` from `new` with two more versions and two aliases; returns its versions.
async fn key_with_everything(store: &impl Store, new: &NewKey, n: u32) -> Vec<VersionRecord> {
    create(store, new).await;
    let mut key = new.key.clone();
    let mut all = vec![new.version.clone()];
    for i in 1..=2 {
        let version = extra_version(n, i, new.key.created_at + i64::from(i));
        key = rotated(&key, &version);
        store
            .add_version(&key, &version)
            .await
            .expect("add_version");
        all.push(version);
    }
    for name in ["a", "b"] {
        let record = alias(&format!("alias/{name}-{n}"), &key_id(n));
        store.create_alias(&record).await.expect("create_alias");
    }
    all
}

/// Asserts that nothing of key `n` with `gone` versions can be read or listed any more.
async fn assert_key_gone(store: &impl Store, n: u32, gone: &[VersionRecord]) {
    assert_eq!(read_key(store, &key_id(n)).await, None, "get_key is None");
    for version in gone {
        let read = store.get_version(&version.version_id).await;
        assert_eq!(read.expect("get_version"), None, "get_version is None");
        let destroyed = store.is_destroyed_version(&version.version_id).await;
        assert!(destroyed.expect("is_destroyed_version"), "remembered");
    }
    assert!(versions(store, &key_id(n)).await.is_empty(), "no versions");
    let tags = store.list_tags(&key_id(n)).await.expect("list_tags");
    assert!(tags.is_empty(), "no tags: {tags:?}");
    let aliases = store.list_aliases(Some(&key_id(n))).await;
    assert!(aliases.expect("list_aliases").is_empty(), "no aliases");
    for name in ["a", "b"] {
        let read = store.get_alias(&format!("alias/{name}-{n}")).await;
        assert_eq!(read.expect("get_alias"), None, "get_alias is None");
    }
    let keys = store.list_keys().await.expect("list_keys");
    assert!(keys.iter().all(|k| k.key_id != key_id(n)), "not listed");
    let due = store.due_keys(i64::MAX).await.expect("due_keys");
    assert!(due.iter().all(|k| k.key_id != key_id(n)), "never due");
}

/// `destroy_key` removes the key, its versions, aliases and tags; its version ids are
/// remembered as destroyed; another key with its own versions, aliases and tags is intact.
pub async fn destroy_key_removes_everything<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let doomed = key_with_everything(&store, &full_key(1), 1).await;
    let kept = key_with_everything(&store, &full_key(2), 2).await;
    store.destroy_key(&key_id(1)).await.expect("destroy_key");
    assert_key_gone(&store, 1, &doomed).await;
    for version in &kept {
        let destroyed = store.is_destroyed_version(&version.version_id).await;
        assert!(!destroyed.expect("is_destroyed_version"), "a live version");
        let read = store.get_version(&version.version_id).await;
        assert_eq!(read.expect("get_version").as_ref(), Some(version));
    }
    assert_eq!(versions(&store, &key_id(2)).await, kept, "versions kept");
    let tags = store.list_tags(&key_id(2)).await.expect("list_tags");
    assert_eq!(tags.len(), 3, "the other key keeps its tags");
    let aliases = store.list_aliases(None).await.expect("list_aliases");
    let names: Vec<String> = aliases.into_iter().map(|a| a.name).collect();
    assert_eq!(
        names,
        ["alias/a-2", "alias/b-2"],
        "only the other key's aliases"
    );
    let listed = store.list_keys().await.expect("list_keys");
    assert_eq!(listed.len(), 1, "one key left");
    store
        .create_alias(&alias("alias/a-1", &key_id(2)))
        .await
        .expect("a destroyed key's alias name is free again");
}

/// `is_destroyed_version` is false for unknown ids, for live versions and for key ids.
pub async fn is_destroyed_version_false_for_others<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let unknown = "00000000-0000-4000-8000-00000000dead";
    assert!(!destroyed(&store, unknown).await, "an unknown id");
    let gone = key_with_everything(&store, &minimal_key(1), 1).await;
    create(&store, &minimal_key(2)).await;
    store.destroy_key(&key_id(1)).await.expect("destroy_key");
    assert!(!destroyed(&store, unknown).await, "still unknown");
    let live = minimal_key(2).version.version_id;
    assert!(!destroyed(&store, &live).await, "a live version");
    assert!(
        !destroyed(&store, &key_id(1)).await,
        "a key id is not a version id"
    );
    let never = extra_version_id(1, 3);
    assert!(!destroyed(&store, &never).await, "never created");
    assert_eq!(gone.len(), 3);
    for version in gone {
        assert!(destroyed(&store, &version.version_id).await, "destroyed");
    }
}

/// Reads `is_destroyed_version(id)`, panicking if the read fails.
async fn destroyed(store: &impl Store, id: &str) -> bool {
    store
        .is_destroyed_version(id)
        .await
        .expect("is_destroyed_version")
}

/// `destroy_key` of a missing or already destroyed key is `NotFound`; writes to a destroyed
/// key fail as for a key that never existed, and leave nothing behind.
pub async fn destroy_key_missing_is_not_found<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let result = store.destroy_key(&key_id(1)).await;
    assert_not_found(result, "destroy_key of a missing key");
    let new = minimal_key(1);
    create(&store, &new).await;
    store.destroy_key(&key_id(1)).await.expect("destroy_key");
    let again = store.destroy_key(&key_id(1)).await;
    assert_not_found(again, "destroy_key of a destroyed key");
    let update = store.update_key(&next_revision(&new.key)).await;
    assert_not_found(update, "update_key of a destroyed key");
    let version = extra_version(1, 1, 5);
    let added = store
        .add_version(&rotated(&new.key, &version), &version)
        .await;
    assert_not_found(added, "add_version to a destroyed key");
    let tagged = store.put_tags(&key_id(1), &[tag("k", "v")], MAX_TAGS).await;
    assert_reference_not_found(tagged, "put_tags on a destroyed key");
    let aliased = store.create_alias(&alias("alias/late", &key_id(1))).await;
    assert_reference_not_found(aliased, "create_alias to a destroyed key");
    assert_key_gone(&store, 1, &[new.version]).await;
    assert!(store.is_empty().await.expect("is_empty"), "nothing left");
    create(&store, &full_key(2)).await;
    let other = store.destroy_key(&key_id(3)).await;
    assert_not_found(other, "destroy_key of another missing key");
    assert_key_stored(&store, &full_key(2)).await;
}
