//! Checks for `create_alias`, `get_alias`, `list_aliases`, `update_alias` and `delete_alias`.
//!
//! Owns the uniqueness of alias names, the rule that an alias needs an existing key, the
//! byte order of alias lists, and which missing record each refused change reports. Does not
//! cover many writers racing for one name (see `concurrency`) or aliases of a destroyed key
//! (see `destroy`).

use openkms_core::AliasRecord;

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::{
    assert_already_exists, assert_key_stored, assert_not_found, assert_reference_not_found, create,
};
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

/// Alias names chosen so that byte order differs from locale order and UTF-16 order:
/// upper case before lower case, punctuation by its byte, U+FF5E before U+1F600.
pub(crate) const NAMES: [&str; 10] = [
    "alias/b",
    "alias/B",
    "alias/a",
    "alias/_x",
    "alias/a-b",
    "alias/ab",
    "alias/\u{e9}",
    "alias/z",
    "alias/\u{1f600}",
    "alias/\u{ff5e}",
];

/// Reads `list_aliases(key_id)`, panicking if the read fails.
async fn listed(store: &impl Store, key_id: Option<&str>) -> Vec<AliasRecord> {
    store.list_aliases(key_id).await.expect("list_aliases")
}

/// `list_aliases` sorts by name in byte order: all aliases, or only those of one key.
pub async fn list_aliases_sorted_by_name<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(listed(&store, None).await.is_empty(), "no aliases yet");
    create(&store, &full_key(1)).await;
    create(&store, &minimal_key(2)).await;
    create(&store, &minimal_key(3)).await;
    let made: Vec<AliasRecord> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| alias(name, &key_id(1 + (i % 2) as u32)))
        .collect();
    for record in &made {
        store.create_alias(record).await.expect("create_alias");
    }
    let mut all = made.clone();
    all.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    assert_eq!(
        listed(&store, None).await,
        all,
        "every alias, by name in byte order"
    );
    for n in 1..=2 {
        let of_key: Vec<AliasRecord> = all
            .iter()
            .filter(|a| a.key_id == key_id(n))
            .cloned()
            .collect();
        let got = listed(&store, Some(&key_id(n))).await;
        assert_eq!(got, of_key, "the aliases of key {n}, by name in byte order");
    }
    assert!(
        listed(&store, Some(&key_id(3))).await.is_empty(),
        "a key without aliases"
    );
    assert!(
        listed(&store, Some(&key_id(4))).await.is_empty(),
        "an unknown key"
    );
}

/// `update_alias` points an existing alias at another key; both keys stay as they were.
pub async fn update_alias_repoints<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &full_key(1)).await;
    create(&store, &minimal_key(2)).await;
    store
        .create_alias(&alias("alias/moving", &key_id(1)))
        .await
        .expect("create_alias");
    let moved = alias("alias/moving", &key_id(2));
    store.update_alias(&moved).await.expect("update_alias");
    let read = store.get_alias("alias/moving").await.expect("get_alias");
    assert_eq!(
        read.as_ref(),
        Some(&moved),
        "the alias points at the new key"
    );
    assert!(
        listed(&store, Some(&key_id(1))).await.is_empty(),
        "left key 1"
    );
    assert_eq!(listed(&store, Some(&key_id(2))).await, vec![moved]);
    assert_key_stored(&store, &full_key(1)).await;
    assert_key_stored(&store, &minimal_key(2)).await;
}

/// `update_alias` of a missing alias is `NotFound` and creates nothing; to a missing key it
/// is `ReferenceNotFound` and the alias keeps its key.
pub async fn update_alias_missing_alias_or_key<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &minimal_key(1)).await;
    let result = store.update_alias(&alias("alias/none", &key_id(1))).await;
    assert_not_found(result, "update_alias of a missing alias");
    let read = store.get_alias("alias/none").await.expect("get_alias");
    assert_eq!(read, None, "update_alias does not create an alias");
    let kept = alias("alias/kept", &key_id(1));
    store.create_alias(&kept).await.expect("create_alias");
    let result = store.update_alias(&alias("alias/kept", &key_id(9))).await;
    assert_reference_not_found(result, "update_alias to a missing key");
    let read = store.get_alias("alias/kept").await.expect("get_alias");
    assert_eq!(read, Some(kept), "a refused update_alias changes nothing");
}

/// `delete_alias` reports whether the alias existed; the name is free again afterwards and
/// other aliases and the key are untouched.
pub async fn delete_alias_reports_existence<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &full_key(1)).await;
    let other = alias("alias/other", &key_id(1));
    for record in [alias("alias/gone", &key_id(1)), other.clone()] {
        store.create_alias(&record).await.expect("create_alias");
    }
    let delete = |name: &'static str| store.delete_alias(name);
    assert!(
        delete("alias/gone").await.expect("delete_alias"),
        "it existed"
    );
    let read = store.get_alias("alias/gone").await.expect("get_alias");
    assert_eq!(read, None, "a deleted alias is gone");
    assert!(
        !delete("alias/gone").await.expect("delete_alias"),
        "already gone"
    );
    assert!(
        !delete("alias/never").await.expect("delete_alias"),
        "never existed"
    );
    assert!(
        !delete("alias/OTHER").await.expect("delete_alias"),
        "case-sensitive"
    );
    assert_eq!(listed(&store, None).await, vec![other], "others are kept");
    assert_key_stored(&store, &full_key(1)).await;
    store
        .create_alias(&alias("alias/gone", &key_id(1)))
        .await
        .expect("a deleted name can be taken again");
}
