//! The durability check: everything acknowledged is there after the store is reopened.
//!
//! Owns the reopen round trip through [`crate::StoreFactory::open`], for created records and
//! for every lifecycle change (updates, versions, aliases, tags, destruction). It proves a clean close
//! and reopen lose nothing; proving survival of a killed process is backend-specific (it
//! needs a child process) and lives with each backend.

use openkms_core::{KeyRecord, KeyState};

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::{
    assert_already_exists, assert_conflict, assert_key_stored, create, read_key, versions,
};
use crate::fixtures::{
    MAX_TAGS, access_key, alias, disabled_key, extra_version, full_key, key_id, minimal_key,
    next_revision, rotated, tag, version_id,
};

/// Writes one of everything through `store`.
async fn write_everything(store: &impl Store) {
    assert!(
        store
            .put_meta_if_absent("root-check", b"\x00check")
            .await
            .expect("put_meta")
    );
    create(store, &full_key(1)).await;
    create(store, &minimal_key(2)).await;
    for n in 10..40 {
        create(store, &disabled_key(n)).await;
    }
    store
        .create_alias(&alias("alias/one", &key_id(1)))
        .await
        .expect("create_alias");
    store
        .create_access_key(&access_key(0, true))
        .await
        .expect("create_access_key");
    store
        .create_access_key(&access_key(1, false))
        .await
        .expect("create_access_key");
}

/// Asserts that everything [`write_everything`] wrote reads back exactly.
async fn assert_everything(store: &impl Store) {
    let meta = store.get_meta("root-check").await.expect("get_meta");
    assert_eq!(
        meta.as_deref(),
        Some(&b"\x00check"[..]),
        "metadata survives a reopen"
    );
    assert_key_stored(store, &full_key(1)).await;
    assert_key_stored(store, &minimal_key(2)).await;
    for n in 10..40 {
        assert_key_stored(store, &disabled_key(n)).await;
    }
    let one = store.get_alias("alias/one").await.expect("get_alias");
    assert_eq!(
        one,
        Some(alias("alias/one", &key_id(1))),
        "aliases survive a reopen"
    );
    for (n, active) in [(0, true), (1, false)] {
        let expected = access_key(n, active);
        let read = store
            .get_access_key(&expected.access_key_id)
            .await
            .expect("get_access_key");
        assert_eq!(read, Some(expected), "AccessKeys survive a reopen");
    }
    assert!(
        !store.is_empty().await.expect("is_empty"),
        "a reopened store is not empty"
    );
}

/// Close and reopen: every record is there, and uniqueness still holds against old records.
pub async fn reopen_keeps_everything<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    write_everything(&store).await;
    drop(store);
    let store = factory.open().await;
    assert_everything(&store).await;
    let again = store.create_alias(&alias("alias/one", &key_id(2))).await;
    assert_already_exists(again, "create_alias of a name taken before the reopen");
    let meta = store
        .put_meta_if_absent("root-check", b"new")
        .await
        .expect("put_meta");
    assert!(
        !meta,
        "metadata written before the reopen is not overwritten"
    );
    create(&store, &full_key(3)).await;
    drop(store);
    let store = factory.open().await;
    assert_everything(&store).await;
    assert_key_stored(&store, &full_key(3)).await;
}

/// Makes one of every lifecycle change; returns key 1 as it should be stored afterwards.
async fn change_everything(store: &impl Store) -> KeyRecord {
    create(store, &full_key(1)).await;
    create(store, &minimal_key(2)).await;
    create(store, &minimal_key(3)).await;
    let mut enabled = next_revision(&full_key(1).key);
    enabled.state = KeyState::Enabled;
    enabled.delete_at = None;
    store.update_key(&enabled).await.expect("update_key");
    let version = extra_version(1, 1, 1_800_000_000);
    let key = rotated(&enabled, &version);
    store
        .add_version(&key, &version)
        .await
        .expect("add_version");
    let id = key_id(1);
    let put = [tag("new", "v")];
    store.put_tags(&id, &put, MAX_TAGS).await.expect("put_tags");
    let names = ["zeta".to_owned()];
    store.delete_tags(&id, &names).await.expect("delete_tags");
    for (name, n) in [("alias/x", 1), ("alias/y", 1), ("alias/z", 2)] {
        let record = alias(name, &key_id(n));
        store.create_alias(&record).await.expect("create_alias");
    }
    let moved = alias("alias/y", &key_id(2));
    store.update_alias(&moved).await.expect("update_alias");
    assert!(store.delete_alias("alias/x").await.expect("delete_alias"));
    store.destroy_key(&key_id(3)).await.expect("destroy_key");
    key
}

/// Asserts that every change [`change_everything`] made reads back, with key 1 as `key`.
async fn assert_changed(store: &impl Store, key: &KeyRecord) {
    assert_eq!(
        read_key(store, &key_id(1)).await.as_ref(),
        Some(key),
        "updated key"
    );
    let listed = versions(store, &key_id(1)).await;
    let added = extra_version(1, 1, 1_800_000_000);
    assert_eq!(listed, vec![full_key(1).version, added], "added version");
    let tags = store.list_tags(&key_id(1)).await.expect("list_tags");
    let expected = vec![tag("Alpha", ""), tag("mid", "\u{4e2d}"), tag("new", "v")];
    assert_eq!(tags, expected, "put and deleted tags");
    let aliases = store.list_aliases(None).await.expect("list_aliases");
    let expected = vec![alias("alias/y", &key_id(2)), alias("alias/z", &key_id(2))];
    assert_eq!(aliases, expected, "updated and deleted aliases");
    assert_eq!(read_key(store, &key_id(3)).await, None, "destroyed key");
    let destroyed = store.is_destroyed_version(&version_id(3)).await;
    assert!(
        destroyed.expect("is_destroyed_version"),
        "its version id is remembered"
    );
    assert_key_stored(store, &minimal_key(2)).await;
}

/// Close and reopen after lifecycle changes: all of them are there, and the revision rule
/// still holds against the revision written before the reopen.
pub async fn reopen_keeps_lifecycle_changes<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let key = change_everything(&store).await;
    drop(store);
    let store = factory.open().await;
    assert_changed(&store, &key).await;
    let stale = store
        .update_key(&KeyRecord {
            revision: key.revision,
            ..key.clone()
        })
        .await;
    assert_conflict(stale, "update_key at the revision stored before the reopen");
    let mut next = next_revision(&key);
    next.description = "after the reopen".to_owned();
    store
        .update_key(&next)
        .await
        .expect("update_key after the reopen");
    drop(store);
    let store = factory.open().await;
    assert_changed(&store, &next).await;
}
