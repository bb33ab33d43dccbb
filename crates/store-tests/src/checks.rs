//! The conformance checks, one public `async fn` per check.
//!
//! Each check takes a fresh [`crate::StoreFactory`], opens a store, and panics with a message
//! naming the broken rule if the backend misbehaves. [`crate::conformance_tests!`] lists
//! every check here; a new check must be added to both. This module holds no checks itself:
//! they live in the submodules by topic, and are listed again by capability in one public
//! module each (`key_store`, `alias_store`, `tag_store`, `identity_store`, `meta_store`,
//! `replay_store`), which is what the macros run.

mod access_keys;
mod aliases;
mod concurrency;
mod destroy;
mod durability;
mod identities;
mod keys;
mod listing;
mod meta;
mod nonces;
mod revisions;
mod tags;

pub use access_keys::{
    access_key_round_trip_and_duplicate, create_access_key_needs_no_user,
    create_user_access_key_holds_the_limit, create_user_access_key_missing_user,
};
pub use aliases::{
    alias_round_trip_and_duplicate, alias_to_missing_key, delete_alias_reports_existence,
    list_aliases_sorted_by_name, update_alias_missing_alias_or_key, update_alias_repoints,
};
pub use concurrency::{
    concurrent_add_version_has_one_winner, concurrent_alias_has_one_winner,
    concurrent_attach_and_delete_policy_stay_consistent,
    concurrent_attach_and_delete_user_stay_consistent,
    concurrent_create_access_key_and_delete_user_stay_consistent,
    concurrent_create_key_all_succeed, concurrent_create_user_access_key_holds_the_limit,
    concurrent_failures_are_isolated, concurrent_put_tags_hold_the_limit,
    concurrent_retried_updates_lose_nothing, concurrent_update_key_has_one_winner,
    concurrent_use_nonce_has_one_winner,
};
pub use destroy::{
    destroy_key_missing_is_not_found, destroy_key_removes_everything,
    is_destroyed_version_false_for_others,
};
pub use durability::{reopen_keeps_everything, reopen_keeps_lifecycle_changes};
pub use identities::{
    attach_policy_missing_references, attach_policy_round_trip_and_duplicate,
    delete_access_key_reports_existence, delete_policy_refused_while_attached,
    delete_user_refused_while_it_owns_or_holds, detach_policy_reports_existence,
    list_access_keys_of_one_user_oldest_first, list_policies_sorted_by_name,
    list_policy_attachments_ordering, list_user_attachments_ordering, list_users_sorted_by_name,
    policy_round_trip_and_duplicate, reopen_keeps_identities, set_access_key_active_round_trip,
    user_round_trip_and_duplicate,
};
pub use keys::{
    create_key_duplicate_key_id, create_key_is_atomic, create_key_missing_version_key,
    create_key_round_trips_empty_options, create_key_round_trips_every_field,
};
pub use listing::{due_keys_at_boundaries, list_keys_oldest_first, list_versions_oldest_first};
pub use meta::{
    get_unknown_returns_none, is_empty_tracks_access_keys, is_empty_tracks_keys, meta_put_if_absent,
};
pub use nonces::{
    purge_nonces_removes_only_expired, reopen_keeps_nonces, use_nonce_expired_record_is_reusable,
    use_nonce_first_use_then_replay, use_nonce_is_per_access_key,
};
pub use revisions::{
    add_version_is_atomic, add_version_rotates_the_key, create_key_stores_the_given_revision,
    update_key_missing_is_not_found, update_key_replaces_the_record,
    update_key_stale_revision_is_conflict, version_of_another_key_is_refused,
};
pub use tags::{
    delete_tags_removes_listed, put_tags_holds_the_limit, put_tags_missing_key, put_tags_upserts,
};

/// The checks of the [`openkms_core::KeyStore`] capability.
pub mod key_store {
    pub use super::{
        add_version_is_atomic, add_version_rotates_the_key, concurrent_add_version_has_one_winner,
        concurrent_create_key_all_succeed, concurrent_failures_are_isolated,
        concurrent_retried_updates_lose_nothing, concurrent_update_key_has_one_winner,
        create_key_duplicate_key_id, create_key_is_atomic, create_key_missing_version_key,
        create_key_round_trips_empty_options, create_key_round_trips_every_field,
        create_key_stores_the_given_revision, destroy_key_missing_is_not_found,
        destroy_key_removes_everything, due_keys_at_boundaries,
        is_destroyed_version_false_for_others, is_empty_tracks_access_keys, is_empty_tracks_keys,
        list_keys_oldest_first, list_versions_oldest_first, reopen_keeps_everything,
        reopen_keeps_lifecycle_changes, update_key_missing_is_not_found,
        update_key_replaces_the_record, update_key_stale_revision_is_conflict,
        version_of_another_key_is_refused,
    };
}

/// The checks of the [`openkms_core::AliasStore`] capability.
pub mod alias_store {
    pub use super::{
        alias_round_trip_and_duplicate, alias_to_missing_key, concurrent_alias_has_one_winner,
        delete_alias_reports_existence, list_aliases_sorted_by_name,
        update_alias_missing_alias_or_key, update_alias_repoints,
    };
}

/// The checks of the [`openkms_core::TagStore`] capability.
pub mod tag_store {
    pub use super::{
        concurrent_put_tags_hold_the_limit, delete_tags_removes_listed, put_tags_holds_the_limit,
        put_tags_missing_key, put_tags_upserts,
    };
}

/// The checks of the [`openkms_core::IdentityStore`] capability.
pub mod identity_store {
    pub use super::{
        access_key_round_trip_and_duplicate, attach_policy_missing_references,
        attach_policy_round_trip_and_duplicate,
        concurrent_attach_and_delete_policy_stay_consistent,
        concurrent_attach_and_delete_user_stay_consistent,
        concurrent_create_access_key_and_delete_user_stay_consistent,
        concurrent_create_user_access_key_holds_the_limit, create_access_key_needs_no_user,
        create_user_access_key_holds_the_limit, create_user_access_key_missing_user,
        delete_access_key_reports_existence, delete_policy_refused_while_attached,
        delete_user_refused_while_it_owns_or_holds, detach_policy_reports_existence,
        list_access_keys_of_one_user_oldest_first, list_policies_sorted_by_name,
        list_policy_attachments_ordering, list_user_attachments_ordering,
        list_users_sorted_by_name, policy_round_trip_and_duplicate, reopen_keeps_identities,
        set_access_key_active_round_trip, user_round_trip_and_duplicate,
    };
}

/// The checks of the [`openkms_core::MetaStore`] capability.
pub mod meta_store {
    pub use super::{get_unknown_returns_none, meta_put_if_absent};
}

/// The checks of the [`openkms_core::ReplayStore`] capability.
pub mod replay_store {
    pub use super::{
        concurrent_use_nonce_has_one_winner, purge_nonces_removes_only_expired,
        reopen_keeps_nonces, use_nonce_expired_record_is_reusable, use_nonce_first_use_then_replay,
        use_nonce_is_per_access_key,
    };
}

/// The capability traits every check file needs in scope to call a store's methods.
mod prelude {
    pub(crate) use openkms_core::{
        AliasStore, IdentityStore, KeyStore, MetaStore, ReplayStore, Store, TagStore,
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
