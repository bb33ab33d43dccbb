//! openkms-store-tests: the one conformance suite every storage backend runs.
//!
//! A backend's integration test implements [`StoreFactory`] (how to open its store, and how to
//! open it again over the same data) and invokes [`conformance_tests!`], which expands to one
//! named `#[test]` per check in [`checks`]. The checks pin down the [`Store`] contract: exact
//! round trips, put-if-absent, atomic key creation, typed errors, the revision rule of
//! updates, list orderings and their keyset pages, which keys are due, destruction, SignatureNonce records (one
//! winner per nonce, expiry, purge), audit anchors (one per node, replaced in place), snapshots (every record out in one
//! consistent view, into an empty store all or nothing), RAM identities (users, their AccessKeys and how many a
//! user may own, custom policies, attachments, and the deletes refused while something
//! depends on them), behaviour under concurrent writers, and durability across a reopen.
//!
//! This crate owns the checks and the sample records ([`fixtures`]). It knows no backend, no
//! SQL and no files: everything it does goes through the [`Store`] trait.
#![deny(missing_docs)]

use std::future::Future;

use openkms_core::{AnchorStore, ReplayStore, RewrapStore, SnapshotStore, Store};

pub mod checks;
pub mod fixtures;
pub mod memory;

/// How the suite gets a store to test.
///
/// One factory value is made per check, so each check starts from empty storage. `open` may be
/// called more than once on the same factory; every call must give a store over the same data
/// (that is how durability is checked). The suite drops the previous store before reopening.
pub trait StoreFactory {
    /// The backend under test: every capability of [`Store`], [`ReplayStore`],
    /// [`AnchorStore`], [`RewrapStore`] and [`SnapshotStore`].
    type Store: Store + ReplayStore + AnchorStore + RewrapStore + SnapshotStore;

    /// Opens the store over this factory's data. Panics if the store cannot be opened.
    fn open(&self) -> impl Future<Output = Self::Store>;
}

/// Runs one check on a fresh factory inside its own multi-threaded runtime.
///
/// [`conformance_tests!`] calls this; a backend rarely needs it directly. `make` builds the
/// factory (asynchronously, so a backend can create a database first).
pub fn run_check<M, MF, F, C, CF>(make: M, check: C)
where
    M: FnOnce() -> MF,
    MF: Future<Output = F>,
    F: StoreFactory,
    C: FnOnce(F) -> CF,
    CF: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a tokio runtime for the check");
    runtime.block_on(async move {
        let factory = make().await;
        check(factory).await;
    });
}

/// Expands to one `#[test]` per conformance check of every capability, each named after its
/// check: [`key_store_tests!`], [`alias_store_tests!`], [`tag_store_tests!`],
/// [`identity_store_tests!`], [`meta_store_tests!`], [`replay_store_tests!`],
/// [`anchor_store_tests!`], [`rewrap_store_tests!`], [`snapshot_store_tests!`] and
/// [`secret_store_tests!`].
///
/// The argument is an expression callable with no arguments that returns a future resolving
/// to a fresh [`StoreFactory`], for example the path of an `async fn`:
///
/// ```ignore
/// async fn factory() -> MyFactory { MyFactory::new_empty().await }
/// openkms_store_tests::conformance_tests!(factory);
/// ```
///
/// The calling crate needs no tokio dependency of its own: each test builds its runtime
/// through [`run_check`].
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::key_store_tests!($make);
        $crate::alias_store_tests!($make);
        $crate::tag_store_tests!($make);
        $crate::identity_store_tests!($make);
        $crate::meta_store_tests!($make);
        $crate::login_store_tests!($make);
        $crate::import_store_tests!($make);
        $crate::replay_store_tests!($make);
        $crate::anchor_store_tests!($make);
        $crate::rewrap_store_tests!($make);
        $crate::snapshot_store_tests!($make);
        $crate::secret_store_tests!($make);
    };
    (@each $make:expr; $module:ident; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::run_check($make, $crate::checks::$module::$check);
            }
        )*
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::KeyStore`] capability (see
/// [`checks::key_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! key_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; key_store;
            create_key_round_trips_every_field,
            create_key_round_trips_empty_options,
            create_key_round_trips_key_pairs,
            create_key_duplicate_key_id,
            create_key_is_atomic,
            create_key_missing_version_key,
            is_empty_tracks_keys,
            is_empty_tracks_access_keys,
            concurrent_create_key_all_succeed,
            concurrent_failures_are_isolated,
            reopen_keeps_everything,
            create_key_stores_the_given_revision,
            update_key_replaces_the_record,
            update_key_stale_revision_is_conflict,
            update_key_missing_is_not_found,
            add_version_rotates_the_key,
            add_version_is_atomic,
            version_of_another_key_is_refused,
            list_versions_oldest_first,
            list_keys_oldest_first,
            page_keys_walks_the_listing,
            page_keys_filters_and_counts,
            due_keys_at_boundaries,
            destroy_key_removes_everything,
            destroy_key_missing_is_not_found,
            is_destroyed_version_false_for_others,
            concurrent_update_key_has_one_winner,
            concurrent_add_version_has_one_winner,
            concurrent_retried_updates_lose_nothing,
            reopen_keeps_lifecycle_changes,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::AliasStore`] capability (see
/// [`checks::alias_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! alias_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; alias_store;
            alias_round_trip_and_duplicate,
            alias_to_missing_key,
            concurrent_alias_has_one_winner,
            list_aliases_sorted_by_name,
            page_aliases_walks_and_counts,
            update_alias_repoints,
            update_alias_missing_alias_or_key,
            delete_alias_reports_existence,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::TagStore`] capability (see
/// [`checks::tag_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! tag_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; tag_store;
            put_tags_upserts,
            put_tags_missing_key,
            put_tags_holds_the_limit,
            delete_tags_removes_listed,
            page_tags_walks_every_tag,
            page_tags_filtered_by_tag,
            concurrent_put_tags_hold_the_limit,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::IdentityStore`] capability (see
/// [`checks::identity_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! identity_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; identity_store;
            access_key_round_trip_and_duplicate,
            create_user_access_key_holds_the_limit,
            create_user_access_key_missing_user,
            create_access_key_needs_no_user,
            user_round_trip_and_duplicate,
            list_users_sorted_by_name,
            page_users_and_policies_walk_by_name,
            delete_user_refused_while_it_owns_or_holds,
            list_access_keys_of_one_user_oldest_first,
            set_access_key_active_round_trip,
            delete_access_key_reports_existence,
            policy_round_trip_and_duplicate,
            list_policies_sorted_by_name,
            delete_policy_refused_while_attached,
            attach_policy_round_trip_and_duplicate,
            attach_policy_missing_references,
            detach_policy_reports_existence,
            list_user_attachments_ordering,
            list_policy_attachments_ordering,
            reopen_keeps_identities,
            concurrent_attach_and_delete_policy_stay_consistent,
            concurrent_attach_and_delete_user_stay_consistent,
            concurrent_create_user_access_key_holds_the_limit,
            concurrent_create_access_key_and_delete_user_stay_consistent,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::MetaStore`] capability (see
/// [`checks::meta_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! meta_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; meta_store;
            meta_put_if_absent,
            meta_replace_if_swaps_only_over_the_expected_value,
            meta_replace_if_lets_one_of_racing_writers_win,
            get_unknown_returns_none,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::LoginStore`] capability (see
/// [`checks::login_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! login_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; login_store;
            login_profile_create_get,
            login_profile_update_keeps_created_at,
            login_profile_delete_and_user_delete,
            login_profile_reopen_keeps,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::ImportStore`] capability (see
/// [`checks::import_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! import_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; import_store;
            import_save_material_round_trips,
            import_save_material_checks_revision,
            import_reservations_revoke_at_the_limit,
            import_reservations_count_concurrently,
            import_revocation_survives_a_save,
            import_save_with_a_revoked_token_is_refused,
            import_other_material_is_refused,
            import_delete_keeps_the_fingerprint,
            import_state_goes_with_its_key_and_survives_reopen,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::ReplayStore`] capability (see
/// [`checks::replay_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! replay_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; replay_store;
            use_nonce_first_use_then_replay,
            use_nonce_is_per_access_key,
            use_nonce_expired_record_is_reusable,
            concurrent_use_nonce_has_one_winner,
            purge_nonces_removes_only_expired,
            reopen_keeps_nonces,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::AnchorStore`] capability (see
/// [`checks::anchor_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! anchor_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; anchor_store;
            audit_anchor_is_replaced_per_node,
            audit_anchor_leaves_other_data_alone,
            reopen_keeps_audit_anchors,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::RewrapStore`] capability (see
/// [`checks::rewrap_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! rewrap_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; rewrap_store;
            wrapped_blobs_lists_versions_and_access_keys,
            replace_wrapped_writes_every_row,
            replace_wrapped_is_all_or_nothing,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::SnapshotStore`] capability (see
/// [`checks::snapshot_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! snapshot_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; snapshot_store;
            export_round_trips_every_record_kind,
            import_restores_every_record_kind,
            import_into_a_store_with_data_is_refused,
            import_is_all_or_nothing,
            import_refuses_meta_no_export_writes,
            export_is_one_consistent_view,
        );
    };
}

/// Expands to one `#[test]` per check of the [`openkms_core::SecretStore`] capability (see
/// [`checks::secret_store`]); [`conformance_tests!`] takes the same argument.
#[macro_export]
macro_rules! secret_store_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; secret_store;
            create_secret_round_trips,
            create_secret_is_atomic,
            update_secret_applies_the_whole_change,
            update_secret_refuses_and_writes_nothing,
            concurrent_update_secret_has_one_winner,
            page_secrets_walks_by_name,
            due_secrets_at_boundaries,
            destroy_secret_removes_everything,
            secret_tags_hold_the_limit,
            reopen_keeps_secrets,
        );
    };
}
