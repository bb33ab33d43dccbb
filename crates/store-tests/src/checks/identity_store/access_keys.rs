//! Checks for `create_access_key`, `create_user_access_key` and `get_access_key`.
//!
//! Owns the exact round trip of AccessKey records, the uniqueness of their ids, and the rules
//! of a user's AccessKey: its owner must exist, and owns at most the caller's limit. The root
//! AccessKey, whose owner is no user, goes through `create_access_key`, which checks neither.
//! Does not check what the wrapped secret contains: to a store it is opaque bytes. The limit
//! and the owner under racing writers are checked in `concurrency`.

use openkms_core::{AccessKeyRecord, StoreError};

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::{assert_already_exists, assert_limit_exceeded, assert_reference_not_found};
use crate::fixtures::{MAX_ACCESS_KEYS, access_key, owned_access_key, user, user_name};

/// Active and inactive AccessKeys read back exactly; a taken id is `AlreadyExists`.
pub async fn access_key_round_trip_and_duplicate<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let root = access_key(0, true);
    let user = access_key(1, false);
    store
        .create_access_key(&root)
        .await
        .expect("create_access_key");
    store
        .create_access_key(&user)
        .await
        .expect("create_access_key");
    let read = store
        .get_access_key(&root.access_key_id)
        .await
        .expect("get_access_key");
    assert_eq!(
        read.as_ref(),
        Some(&root),
        "an active AccessKey reads back exactly"
    );
    let read = store
        .get_access_key(&user.access_key_id)
        .await
        .expect("get_access_key");
    assert_eq!(
        read.as_ref(),
        Some(&user),
        "an inactive AccessKey reads back exactly"
    );
    let mut clash = access_key(2, false);
    clash.access_key_id = root.access_key_id.clone();
    let result = store.create_access_key(&clash).await;
    assert_already_exists(result, "create_access_key with a taken id");
    let read = store
        .get_access_key(&root.access_key_id)
        .await
        .expect("get_access_key");
    assert_eq!(read, Some(root), "the first AccessKey is kept");
}

/// `create_user_access_key` of `key` under the service's limit.
async fn create_owned(store: &impl Store, key: &AccessKeyRecord) -> Result<(), StoreError> {
    store.create_user_access_key(key, MAX_ACCESS_KEYS).await
}

/// Reads `key` back by its id, panicking if the read fails.
async fn stored(store: &impl Store, key: &AccessKeyRecord) -> Option<AccessKeyRecord> {
    store
        .get_access_key(&key.access_key_id)
        .await
        .expect("get_access_key")
}

/// The AccessKeys `user` owns, panicking if the read fails.
async fn owned(store: &impl Store, user: &str) -> Vec<AccessKeyRecord> {
    store
        .list_access_keys(user)
        .await
        .expect("list_access_keys")
}

/// Gives `user` the limit's worth of AccessKeys (ids from `first`), each `Ok` and stored
/// exactly; returns them, oldest first.
async fn fill(store: &impl Store, user: &str, first: u32) -> Vec<AccessKeyRecord> {
    let mut keys = Vec::new();
    for i in 0..MAX_ACCESS_KEYS as u32 {
        let key = owned_access_key(first + i, user, i64::from(i));
        let created = create_owned(store, &key).await;
        created.expect("create_user_access_key within the limit");
        assert_eq!(
            stored(store, &key).await.as_ref(),
            Some(&key),
            "stored exactly"
        );
        keys.push(key);
    }
    keys
}

/// With `full` (the limit's worth of keys) stored, `over` is `LimitExceeded` while the first
/// of them is only deactivated, and `Ok` once it is deleted.
async fn room_only_once_one_is_deleted(
    store: &impl Store,
    full: &[AccessKeyRecord],
    over: &AccessKeyRecord,
) {
    let inactive = &full[0].access_key_id;
    let deactivated = store.set_access_key_active(inactive, false).await;
    deactivated.expect("set_access_key_active");
    let result = create_owned(store, over).await;
    assert_limit_exceeded(result, "an inactive AccessKey still counts");
    let deleted = store.delete_access_key(inactive).await;
    assert!(deleted.expect("delete_access_key"), "the key existed");
    create_owned(store, over)
        .await
        .expect("room again once an AccessKey is deleted");
}

/// `create_user_access_key` holds a user to `max_per_user` AccessKeys, inactive ones
/// included: up to the limit `Ok`, one more `LimitExceeded` and not stored, and room again
/// once one is deleted. The limit is per user.
pub async fn create_user_access_key_holds_the_limit<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    for n in [1, 2] {
        store.create_user(&user(n)).await.expect("create_user");
    }
    let (alice, bob) = (user_name(1), user_name(2));
    let full = fill(&store, &alice, 10).await;
    let over = owned_access_key(20, &alice, 100);
    let result = create_owned(&store, &over).await;
    assert_limit_exceeded(result, "one AccessKey past the limit");
    assert_eq!(
        stored(&store, &over).await,
        None,
        "a refused key is not stored"
    );
    assert_eq!(owned(&store, &alice).await, full, "the user keeps its keys");
    let others = fill(&store, &bob, 30).await;
    assert_eq!(owned(&store, &bob).await, others, "the limit is per user");
    room_only_once_one_is_deleted(&store, &full, &over).await;
    let result = store
        .create_user_access_key(&owned_access_key(21, &alice, 0), 1)
        .await;
    assert_limit_exceeded(result, "past a limit of 1 the caller gave");
}

/// `create_user_access_key` of a user that never existed, or was deleted, is
/// `ReferenceNotFound` and stores nothing; a taken id of a user with room is
/// `AlreadyExists`, and the first AccessKey is kept.
pub async fn create_user_access_key_missing_user<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let never = owned_access_key(1, "nobody", 0);
    let result = create_owned(&store, &never).await;
    assert_reference_not_found(result, "create_user_access_key of an unknown user");
    store.create_user(&user(2)).await.expect("create_user");
    store.delete_user(&user_name(2)).await.expect("delete_user");
    let late = owned_access_key(2, &user_name(2), 0);
    let result = create_owned(&store, &late).await;
    assert_reference_not_found(result, "create_user_access_key of a deleted user");
    assert!(store.is_empty().await.expect("is_empty"), "no key stored");
    store.create_user(&user(3)).await.expect("create_user");
    let first = owned_access_key(3, &user_name(3), 0);
    create_owned(&store, &first)
        .await
        .expect("create_user_access_key");
    let mut clash = owned_access_key(4, &user_name(3), 1);
    clash.access_key_id = first.access_key_id.clone();
    let result = create_owned(&store, &clash).await;
    assert_already_exists(result, "create_user_access_key with a taken id");
    assert_eq!(
        owned(&store, &user_name(3)).await,
        vec![first],
        "first kept"
    );
}

/// The root AccessKey (owned by `root`, which is no user) is refused by
/// `create_user_access_key` as `ReferenceNotFound`, and created by `create_access_key`,
/// which checks no owner and no limit; it is not counted as any user's.
pub async fn create_access_key_needs_no_user<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let root = access_key(0, true);
    let result = create_owned(&store, &root).await;
    assert_reference_not_found(result, "create_user_access_key of the root AccessKey");
    store
        .create_access_key(&root)
        .await
        .expect("create_access_key of the root AccessKey");
    assert_eq!(stored(&store, &root).await.as_ref(), Some(&root), "stored");
    store.create_user(&user(1)).await.expect("create_user");
    let keys = fill(&store, &user_name(1), 10).await;
    assert_eq!(
        owned(&store, &user_name(1)).await,
        keys,
        "root's is no user's"
    );
    let extra = owned_access_key(20, &user_name(1), 100);
    store
        .create_access_key(&extra)
        .await
        .expect("create_access_key checks no limit");
}
