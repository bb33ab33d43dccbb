//! The conformance checks, one public `async fn` per check.
//!
//! Each check takes a fresh [`crate::StoreFactory`], opens a store, and panics with a message
//! naming the broken rule if the backend misbehaves. [`crate::conformance_tests!`] lists
//! every check here; a new check must be added to both. This module holds no checks itself:
//! they live in the submodules by topic.

mod access_keys;
mod aliases;
mod concurrency;
mod durability;
mod keys;
mod meta;

pub use access_keys::access_key_round_trip_and_duplicate;
pub use aliases::{alias_round_trip_and_duplicate, alias_to_missing_key};
pub use concurrency::{
    concurrent_alias_has_one_winner, concurrent_create_key_all_succeed,
    concurrent_failures_are_isolated,
};
pub use durability::reopen_keeps_everything;
pub use keys::{
    create_key_duplicate_key_id, create_key_is_atomic, create_key_missing_version_key,
    create_key_round_trips_empty_options, create_key_round_trips_every_field,
};
pub use meta::{
    get_unknown_returns_none, is_empty_tracks_access_keys, is_empty_tracks_keys, meta_put_if_absent,
};

use openkms_core::{Store, StoreError};

use crate::fixtures::{NewKey, sorted_tags};

/// Creates `new` in `store`, panicking if the store refuses.
pub(crate) async fn create(store: &impl Store, new: &NewKey) {
    store
        .create_key(&new.key, &new.version, &new.tags)
        .await
        .expect("create_key of a new key succeeds");
}

/// Asserts that `new` reads back exactly: key, version and sorted tags.
pub(crate) async fn assert_key_stored(store: &impl Store, new: &NewKey) {
    let key = store
        .get_key(&new.key.key_id)
        .await
        .expect("get_key succeeds");
    assert_eq!(
        key.as_ref(),
        Some(&new.key),
        "get_key returns the key as created"
    );
    let version = store
        .get_version(&new.version.version_id)
        .await
        .expect("get_version");
    assert_eq!(
        version.as_ref(),
        Some(&new.version),
        "get_version returns the version"
    );
    let tags = store
        .list_tags(&new.key.key_id)
        .await
        .expect("list_tags succeeds");
    assert_eq!(
        tags,
        sorted_tags(new),
        "list_tags returns the tags sorted by tag key"
    );
}

/// Asserts that `result` is `Err(StoreError::AlreadyExists)`, naming `what` on failure.
pub(crate) fn assert_already_exists<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::AlreadyExists)),
        "{what}: expected Err(AlreadyExists), got {result:?}"
    );
}

/// Asserts that `result` is `Err(StoreError::ReferenceNotFound)`, naming `what` on failure.
pub(crate) fn assert_reference_not_found<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    what: &str,
) {
    assert!(
        matches!(result, Err(StoreError::ReferenceNotFound)),
        "{what}: expected Err(ReferenceNotFound), got {result:?}"
    );
}
