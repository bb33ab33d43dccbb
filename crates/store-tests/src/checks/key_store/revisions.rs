//! Checks for `update_key` and `add_version`: the revision rule and all-or-nothing rotation.
//!
//! Owns optimistic concurrency as one writer sees it (an update applies only over the
//! revision just before it; otherwise `Conflict`, or `NotFound` with no key) and the
//! atomicity of adding a version. Does not cover writers racing each other (see
//! `concurrency`) or reopening (see `durability`).

use openkms_core::{KeyRecord, KeyState};

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::{
    assert_already_exists, assert_conflict, assert_key_stored, assert_not_found,
    assert_reference_not_found, create, read_key, versions,
};
use crate::fixtures::{
    NewKey, blob, extra_version, full_key, key_id, minimal_key, next_revision, rotated, version_id,
};

/// `create_key` keeps the revision it is given, and the next update must build on it.
pub async fn create_key_stores_the_given_revision<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let mut new = minimal_key(1);
    new.key.revision = 7;
    create(&store, &new).await;
    assert_key_stored(&store, &new).await;
    let result = store.update_key(&next_revision(&minimal_key(1).key)).await;
    assert_conflict(
        result,
        "update_key at revision 2 over a key created at revision 7",
    );
    let next = next_revision(&new.key);
    store.update_key(&next).await.expect("update_key at 8");
    assert_eq!(read_key(&store, &key_id(1)).await, Some(next));
}

/// `update_key` replaces every field; versions, tags and other keys are left alone.
pub async fn update_key_replaces_the_record<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let full = full_key(1);
    create(&store, &full).await;
    create(&store, &minimal_key(2)).await;
    let emptied = KeyRecord {
        description: "changed".to_owned(),
        revision: 2,
        ..minimal_key(1).key
    };
    store.update_key(&emptied).await.expect("update_key");
    assert_eq!(
        read_key(&store, &key_id(1)).await.as_ref(),
        Some(&emptied),
        "update_key unset every option and changed every other field"
    );
    let refilled = KeyRecord {
        revision: 3,
        ..full.key.clone()
    };
    store.update_key(&refilled).await.expect("update_key");
    let expected = NewKey {
        key: refilled,
        ..full
    };
    assert_key_stored(&store, &expected).await;
    assert_key_stored(&store, &minimal_key(2)).await;
}

/// Two updates made from the same read: the first wins, the second is `Conflict` and lost;
/// a revision ahead of, equal to, or behind the next one is `Conflict` too.
pub async fn update_key_stale_revision_is_conflict<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &full_key(1)).await;
    let read = read_key(&store, &key_id(1)).await.expect("the key exists");
    let mut first = next_revision(&read);
    first.state = KeyState::Enabled;
    let mut second = next_revision(&read);
    second.description = "second writer".to_owned();
    store.update_key(&first).await.expect("the first update");
    let result = store.update_key(&second).await;
    assert_conflict(result, "update_key from a read the first update overtook");
    assert_eq!(read_key(&store, &key_id(1)).await.as_ref(), Some(&first));
    for revision in [4, 2, 1, 0, i64::MIN, i64::MAX] {
        let stale = KeyRecord {
            revision,
            ..second.clone()
        };
        let result = store.update_key(&stale).await;
        assert_conflict(result, &format!("update_key at revision {revision} over 2"));
    }
    assert_eq!(read_key(&store, &key_id(1)).await.as_ref(), Some(&first));
    let rebased = KeyRecord {
        description: "second writer".to_owned(),
        ..next_revision(&first)
    };
    store
        .update_key(&rebased)
        .await
        .expect("the retried update");
    assert_eq!(read_key(&store, &key_id(1)).await, Some(rebased));
}

/// `update_key` of a key that does not exist is `NotFound` at any revision, and creates
/// nothing.
pub async fn update_key_missing_is_not_found<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &minimal_key(1)).await;
    for revision in [1, 2, 3] {
        let missing = KeyRecord {
            revision,
            ..full_key(2).key
        };
        let result = store.update_key(&missing).await;
        assert_not_found(
            result,
            &format!("update_key of a missing key at {revision}"),
        );
    }
    assert_eq!(read_key(&store, &key_id(2)).await, None, "nothing created");
    assert_key_stored(&store, &minimal_key(1)).await;
}

/// `add_version` stores the version and the key's new record together.
pub async fn add_version_rotates_the_key<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let mut new = minimal_key(1);
    new.key.rotation_interval = Some(86_400);
    new.key.next_rotation_at = Some(86_400);
    create(&store, &new).await;
    let v1 = extra_version(1, 1, 90_000);
    let after_v1 = rotated(&new.key, &v1);
    store
        .add_version(&after_v1, &v1)
        .await
        .expect("add_version");
    assert_eq!(read_key(&store, &key_id(1)).await.as_ref(), Some(&after_v1));
    let v2 = extra_version(1, 2, 200_000);
    let after_v2 = rotated(&after_v1, &v2);
    store
        .add_version(&after_v2, &v2)
        .await
        .expect("add_version");
    assert_eq!(read_key(&store, &key_id(1)).await, Some(after_v2));
    for version in [&new.version, &v1, &v2] {
        let read = store.get_version(&version.version_id).await;
        assert_eq!(read.expect("get_version").as_ref(), Some(version));
    }
    let listed = versions(&store, &key_id(1)).await;
    assert_eq!(listed, vec![new.version, v1, v2], "every version is kept");
}

/// A refused `add_version` writes nothing: not the version (on `Conflict` or `NotFound`),
/// not the key record (when the version id is taken).
pub async fn add_version_is_atomic<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = full_key(1);
    create(&store, &new).await;
    let v1 = extra_version(1, 1, 1_800_000_000);
    let current = rotated(&new.key, &v1);
    store.add_version(&current, &v1).await.expect("add_version");
    let v2 = extra_version(1, 2, 1_900_000_000);
    let stale = store.add_version(&rotated(&new.key, &v2), &v2).await;
    assert_conflict(stale, "add_version from a stale read");
    let kept = store
        .get_version(&v2.version_id)
        .await
        .expect("get_version");
    assert_eq!(kept, None, "a conflicting add_version leaves no version");
    let mut taken = v2.clone();
    taken.version_id = version_id(1);
    taken.wrapped_material = blob(99);
    let result = store.add_version(&rotated(&current, &taken), &taken).await;
    assert_already_exists(result, "add_version with a taken version id");
    assert_eq!(read_key(&store, &key_id(1)).await.as_ref(), Some(&current));
    assert_eq!(versions(&store, &key_id(1)).await, vec![new.version, v1]);
    let missing = minimal_key(2);
    let v = extra_version(2, 1, 5);
    let result = store.add_version(&rotated(&missing.key, &v), &v).await;
    assert_not_found(result, "add_version to a missing key");
    let orphan = store.get_version(&v.version_id).await.expect("get_version");
    assert_eq!(orphan, None, "no version for a missing key");
}

/// A version must belong to the key it is written with: `create_key` and `add_version` of a
/// version naming another key (even an existing one) are `ReferenceNotFound`, writing nothing.
pub async fn version_of_another_key_is_refused<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &minimal_key(1)).await;
    create(&store, &minimal_key(2)).await;
    let mut new = full_key(3);
    new.version.key_id = key_id(2);
    let result = store.create_key(&new.key, &new.version, &new.tags).await;
    assert_reference_not_found(result, "create_key whose version names another key");
    assert_eq!(read_key(&store, &key_id(3)).await, None, "no partial key");
    let mut foreign = extra_version(1, 1, 10);
    foreign.key_id = key_id(2);
    let key = rotated(&minimal_key(1).key, &foreign);
    let result = store.add_version(&key, &foreign).await;
    assert_reference_not_found(result, "add_version whose version names another key");
    assert_key_stored(&store, &minimal_key(1)).await;
    for n in 1..=2 {
        let listed = versions(&store, &key_id(n)).await;
        assert_eq!(listed, vec![minimal_key(n).version], "no version was added");
    }
}
