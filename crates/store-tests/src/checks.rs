//! The conformance checks, one public `async fn` per check, in one public module per storage
//! capability: [`key_store`], [`alias_store`], [`tag_store`], [`identity_store`],
//! [`meta_store`], [`login_store`], [`import_store`], [`replay_store`], [`anchor_store`], [`rewrap_store`],
//! [`secret_store`] and [`snapshot_store`]
//! (each split into files by topic).
//!
//! Each check takes a fresh [`crate::StoreFactory`], opens a store, and panics with a message
//! naming the broken rule if the backend misbehaves. The capability's macro in the crate root
//! (for example [`crate::key_store_tests!`]) lists every check of its module; a new check is
//! its function and one line there. This module holds the assertions the checks share.

pub mod alias_store;
pub mod anchor_store;
pub mod identity_store;
pub mod import_store;
pub mod key_store;
pub mod login_store;
pub mod meta_store;
mod race;
pub mod replay_store;
pub mod rewrap_store;
pub mod secret_store;
pub mod snapshot_store;
pub mod tag_store;

/// The capability traits every check file needs in scope to call a store's methods.
mod prelude {
    pub(crate) use openkms_core::{
        AliasStore, AnchorStore, IdentityStore, KeyStore, MetaStore, ReplayStore, Store, TagStore,
    };
}

use openkms_core::{KeyRecord, Store, StoreError, VersionRecord};

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

/// Asserts that `result` is `Err(StoreError::NotFound)`, naming `what` on failure.
pub(crate) fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "{what}: expected Err(NotFound), got {result:?}"
    );
}

/// Asserts that `result` is `Err(StoreError::LimitExceeded)`, naming `what` on failure.
pub(crate) fn assert_limit_exceeded<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::LimitExceeded)),
        "{what}: expected Err(LimitExceeded), got {result:?}"
    );
}

/// Asserts that `result` is `Err(StoreError::Conflict)`, naming `what` on failure.
pub(crate) fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "{what}: expected Err(Conflict), got {result:?}"
    );
}

/// Reads key `key_id`, panicking if the read fails.
pub(crate) async fn read_key(store: &impl Store, key_id: &str) -> Option<KeyRecord> {
    store.get_key(key_id).await.expect("get_key succeeds")
}

/// Lists the versions of `key_id`, panicking if the read fails.
pub(crate) async fn versions(store: &impl Store, key_id: &str) -> Vec<VersionRecord> {
    store
        .list_versions(key_id)
        .await
        .expect("list_versions succeeds")
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
