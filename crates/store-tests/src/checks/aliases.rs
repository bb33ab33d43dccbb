//! Checks for `create_alias` and `get_alias`.
//!
//! Owns the uniqueness of alias names and the rule that an alias needs an existing key. Does
//! not cover many writers racing for one name (see `concurrency`).

use openkms_core::Store;

use super::{assert_already_exists, assert_reference_not_found, create};
use crate::StoreFactory;
use crate::fixtures::{alias, full_key, key_id, minimal_key};

/// An alias reads back exactly; a taken name is `AlreadyExists` and keeps its first key.
pub async fn alias_round_trip_and_duplicate<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &full_key(1)).await;
    create(&store, &minimal_key(2)).await;
    let first = alias("alias/Prod_Key-1", &key_id(1));
    store
        .create_alias(&first)
        .await
        .expect("create_alias of a new name");
    let read = store
        .get_alias("alias/Prod_Key-1")
        .await
        .expect("get_alias");
    assert_eq!(
        read.as_ref(),
        Some(&first),
        "get_alias returns the alias as created"
    );
    let result = store
        .create_alias(&alias("alias/Prod_Key-1", &key_id(2)))
        .await;
    assert_already_exists(result, "create_alias with a taken name");
    let same = store.create_alias(&first).await;
    assert_already_exists(same, "create_alias repeating an existing alias exactly");
    let read = store
        .get_alias("alias/Prod_Key-1")
        .await
        .expect("get_alias");
    assert_eq!(read.as_ref(), Some(&first), "the first alias is kept");
    let second = alias("alias/other", &key_id(1));
    store
        .create_alias(&second)
        .await
        .expect("a second name for the same key");
    let read = store.get_alias("alias/other").await.expect("get_alias");
    assert_eq!(read, Some(second), "two aliases may point at one key");
    let other_case = store
        .get_alias("alias/prod_key-1")
        .await
        .expect("get_alias");
    assert_eq!(other_case, None, "alias names are case-sensitive");
}

/// An alias to a key that does not exist is `ReferenceNotFound`, and is not kept.
pub async fn alias_to_missing_key<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &full_key(1)).await;
    let result = store
        .create_alias(&alias("alias/dangling", &key_id(2)))
        .await;
    assert_reference_not_found(result, "create_alias to a missing key");
    let read = store.get_alias("alias/dangling").await.expect("get_alias");
    assert_eq!(read, None, "the refused alias was not kept");
    let retry = alias("alias/dangling", &key_id(1));
    store
        .create_alias(&retry)
        .await
        .expect("the name is still free for an existing key");
    assert_eq!(
        store.get_alias("alias/dangling").await.expect("get_alias"),
        Some(retry)
    );
}
