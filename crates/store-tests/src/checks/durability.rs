//! The durability check: everything acknowledged is there after the store is reopened.
//!
//! Owns the reopen round trip through [`crate::StoreFactory::open`]. It proves a clean close
//! and reopen lose nothing; proving survival of a killed process is backend-specific (it
//! needs a child process) and lives with each backend.

use openkms_core::Store;

use super::{assert_already_exists, assert_key_stored, create};
use crate::StoreFactory;
use crate::fixtures::{access_key, alias, disabled_key, full_key, key_id, minimal_key};

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
