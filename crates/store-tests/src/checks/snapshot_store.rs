//! The checks of [`openkms_core::SnapshotStore`]: an export holds every record of every kind
//! and reads back as an equal snapshot after an import; an import writes all or nothing, and
//! nothing into a store that holds data, and no metadata an export never writes; an export is
//! one consistent view while writers run.
//!
//! The other side of each move is the in-memory store ([`crate::memory::MemoryStore`]), which
//! runs these same checks, so a backend is checked both as a source and as a target.

use std::sync::Arc;

use openkms_core::store::{MetaEntry, RESTORED_META, Snapshot, SnapshotStore};
use openkms_core::{AuditAnchor, PolicyType, StoreError};

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::fixtures::{
    SYSTEM_POLICY, access_key, alias, attachment, extra_version, full_key, minimal_key,
    owned_access_key, policy, rotated, user, user_name,
};
use crate::memory::MemoryStore;

/// Fills `store` with records of every kind a snapshot carries (and an audit anchor and a
/// nonce, which it does not): keys with tags and a rotation, aliases, a destroyed key, users,
/// a custom and a system policy attached, the root AccessKey and a user's, a login profile.
async fn populate(store: &(impl Store + ReplayStore + AnchorStore)) {
    let w = |r: Result<(), StoreError>| r.expect("populate: a write of a new record");
    let meta = |r: Result<bool, StoreError>| assert!(r.expect("put_meta"), "a new meta name");
    meta(
        store
            .put_meta_if_absent("root_key_check", &[0, 1, 2, 255])
            .await,
    );
    meta(
        store
            .put_meta_if_absent("account_id", b"1234567890123456")
            .await,
    );
    let anchor = AuditAnchor {
        seq: 9,
        hash: "a".repeat(64),
    };
    w(store.set_audit_anchor("node-a", &anchor).await);
    store
        .use_nonce("LTAI-n", "nonce-1", i64::MAX, 0)
        .await
        .expect("use_nonce");
    for n in [1, 2, 3] {
        let new = if n == 2 { minimal_key(n) } else { full_key(n) };
        w(store.create_key(&new.key, &new.version, &new.tags).await);
    }
    let one = full_key(1);
    let second = extra_version(1, 1, 1_800_000_000);
    w(store
        .add_version(&rotated(&one.key, &second), &second)
        .await);
    w(store
        .create_alias(&alias("alias/one", &one.key.key_id))
        .await);
    w(store
        .create_alias(&alias("alias/two", &minimal_key(2).key.key_id))
        .await);
    w(store
        .create_alias(&alias("alias/three", &full_key(3).key.key_id))
        .await);
    w(store.destroy_key(&full_key(3).key.key_id).await);
    populate_imports(store).await;
    populate_identities(store).await;
    populate_secrets(store).await;
}

/// An EXTERNAL key with imported material, its tokens revoked once.
async fn populate_imports(store: &impl Store) {
    use super::import_store::{external_key, imported};
    let new = external_key(4);
    super::create(store, &new).await;
    let key = openkms_core::KeyRecord {
        state: openkms_core::KeyState::Enabled,
        ..crate::fixtures::next_revision(&new.key)
    };
    let state = imported(&new.key.key_id, Some(1_900_000_000));
    store
        .save_material(&key, &[5; 60], &state, 1)
        .await
        .expect("save_material");
    store
        .revoke_tokens(&new.key.key_id, 1_800_000_000_123)
        .await
        .expect("revoke_tokens");
}

/// Two secrets, one with a second version, stage labels and tags.
async fn populate_secrets(store: &impl Store) {
    use crate::checks::secret_store::{create_sample, stage, version};
    let s = create_sample(store, 1).await;
    create_sample(store, 2).await;
    let mut next = s.clone();
    next.revision += 1;
    let change = openkms_core::SecretChange {
        added: Some(version(&s, "v2", s.created_at + 1)),
        dropped: vec![],
        stages: vec![
            stage(&s, "ACSCurrent", "v2"),
            stage(&s, "ACSPrevious", "v1"),
        ],
        secret: next,
    };
    store
        .update_secret(&change)
        .await
        .expect("populate: a new secret version");
}

/// The identity half of [`populate`].
async fn populate_identities(store: &impl Store) {
    let w = |r: Result<(), StoreError>| r.expect("populate: a write of a new record");
    w(store.create_user(&user(1)).await);
    w(store.create_user(&user(2)).await);
    w(store.create_policy(&policy(1)).await);
    let custom = attachment(&user_name(1), PolicyType::Custom, &policy(1).policy_name, 5);
    w(store.attach_policy(&custom).await);
    let system = attachment(&user_name(2), PolicyType::System, SYSTEM_POLICY, 6);
    w(store.attach_policy(&system).await);
    w(store.create_access_key(&access_key(0, true)).await);
    let owned = owned_access_key(7, &user_name(1), 1_700_000_007);
    w(store.create_user_access_key(&owned, 2).await);
    w(store
        .set_access_key_active(&owned.access_key_id, false)
        .await);
    let login = openkms_core::LoginProfileRecord {
        user_name: user_name(2),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        password_reset_required: true,
        mfa_bind_required: false,
        created_at: 1_700_000_008,
        updated_at: 1_700_000_009,
    };
    w(store.create_login_profile(&login).await);
}

/// Exports `store`, panicking if the read fails.
async fn export(store: &impl SnapshotStore) -> Snapshot {
    store.export_snapshot().await.expect("export_snapshot")
}

/// Asserts that `snapshot` holds at least one record of every table, and no audit anchor.
fn assert_every_kind(snapshot: &Snapshot) {
    for (table, count) in snapshot.counts() {
        assert!(count > 0, "the export holds no record of {table}");
    }
    assert!(
        snapshot
            .meta
            .iter()
            .all(|m| !m.name.starts_with("audit-anchor/")),
        "audit anchors are left out of a snapshot"
    );
    assert_eq!(
        snapshot.keys.len(),
        3,
        "the destroyed key is gone (its tombstone kept); two keys and the EXTERNAL one remain"
    );
    assert_eq!(snapshot.destroyed.len(), 1);
}

/// A store holding every kind exports them all; the export imported into an empty store
/// exports equal, and the records read back through the ordinary reads.
pub async fn export_round_trips_every_record_kind<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    populate(&store).await;
    let exported = export(&store).await;
    assert_every_kind(&exported);
    assert_eq!(
        export(&store).await,
        exported,
        "a second export of the same state is equal"
    );
    let copy = MemoryStore::default();
    copy.import_snapshot(&exported)
        .await
        .expect("import into an empty store");
    assert_eq!(
        export(&copy).await,
        exported,
        "the copy exports what was imported"
    );
}

/// A snapshot imported into the empty store under test reads back through every capability's
/// reads, exports equal, and is still there after a reopen.
pub async fn import_restores_every_record_kind<F: StoreFactory>(factory: F) {
    let source = MemoryStore::default();
    populate(&source).await;
    let snapshot = export(&source).await;
    let store = factory.open().await;
    store
        .import_snapshot(&snapshot)
        .await
        .expect("import into an empty store");
    assert_eq!(
        export(&store).await,
        snapshot,
        "the store exports what was imported"
    );
    let one = full_key(1);
    assert_eq!(
        store
            .list_versions(&one.key.key_id)
            .await
            .expect("versions")
            .len(),
        2
    );
    let tags = store.list_tags(&one.key.key_id).await.expect("tags");
    assert_eq!(tags.len(), one.tags.len(), "the tags are back");
    let alias = store.get_alias("alias/one").await.expect("get_alias");
    assert_eq!(alias.map(|a| a.key_id), Some(one.key.key_id.clone()));
    let destroyed = full_key(3).version.version_id;
    assert!(
        store
            .is_destroyed_version(&destroyed)
            .await
            .expect("tombstone")
    );
    let owned = store
        .list_access_keys(&user_name(1))
        .await
        .expect("access keys");
    assert_eq!(owned.len(), 1);
    assert!(!owned[0].active, "the AccessKey's state is kept");
    let attached = store
        .list_user_attachments(&user_name(1))
        .await
        .expect("attachments");
    assert_eq!(attached.len(), 1);
    let check = store.get_meta("root_key_check").await.expect("get_meta");
    assert_eq!(
        check,
        Some(vec![0, 1, 2, 255]),
        "the root key check value is back"
    );
    assert!(!store.is_empty().await.expect("is_empty"));
    drop(store);
    let reopened = factory.open().await;
    assert_eq!(export(&reopened).await, snapshot, "the import is durable");
}

/// A store holding any record of the snapshot's tables (one metadata value is enough)
/// refuses an import with `NotEmpty` and keeps what it held; so does one holding a key, even
/// for an empty snapshot.
pub async fn import_into_a_store_with_data_is_refused<F: StoreFactory>(factory: F) {
    let source = MemoryStore::default();
    populate(&source).await;
    let snapshot = export(&source).await;
    let store = factory.open().await;
    assert!(
        store
            .put_meta_if_absent("account_id", b"42")
            .await
            .expect("put_meta")
    );
    let before = export(&store).await;
    let refused = store.import_snapshot(&snapshot).await;
    assert!(
        matches!(refused, Err(StoreError::NotEmpty)),
        "got {refused:?}"
    );
    assert_eq!(
        export(&store).await,
        before,
        "a refused import writes nothing"
    );
    let new = minimal_key(9);
    store
        .create_key(&new.key, &new.version, &new.tags)
        .await
        .expect("create_key");
    let refused = store.import_snapshot(&Snapshot::default()).await;
    assert!(
        matches!(refused, Err(StoreError::NotEmpty)),
        "got {refused:?}"
    );
}

/// An import that fails on its last records (an AccessKey id twice) leaves the store empty,
/// and a good import afterwards succeeds.
pub async fn import_is_all_or_nothing<F: StoreFactory>(factory: F) {
    let source = MemoryStore::default();
    populate(&source).await;
    let good = export(&source).await;
    let mut bad = good.clone();
    let again = bad.access_keys[0].clone();
    bad.access_keys.push(again);
    let store = factory.open().await;
    let failed = store.import_snapshot(&bad).await;
    assert!(
        matches!(failed, Err(StoreError::AlreadyExists)),
        "got {failed:?}"
    );
    assert!(
        export(&store).await.is_empty(),
        "a failed import leaves nothing behind"
    );
    let mut dangling = good.clone();
    dangling.aliases.push(alias("alias/nowhere", "no-such-key"));
    let failed = store.import_snapshot(&dangling).await;
    assert!(
        matches!(failed, Err(StoreError::ReferenceNotFound)),
        "got {failed:?}"
    );
    assert!(
        export(&store).await.is_empty(),
        "a failed import leaves nothing behind"
    );
    store
        .import_snapshot(&good)
        .await
        .expect("the good snapshot imports");
    assert_eq!(export(&store).await, good);
}

/// An import of a snapshot holding a metadata name no export writes (an audit anchor, an
/// unknown name) is refused with `NotSnapshotMeta` and writes nothing; the restore's own note
/// is written.
pub async fn import_refuses_meta_no_export_writes<F: StoreFactory>(factory: F) {
    let source = MemoryStore::default();
    populate(&source).await;
    let good = export(&source).await;
    let store = factory.open().await;
    for name in [AuditAnchor::meta_name("node-a"), "no_such_meta".to_owned()] {
        let mut bad = good.clone();
        bad.meta.push(MetaEntry {
            name: name.clone(),
            value: b"planted".to_vec(),
        });
        let refused = store.import_snapshot(&bad).await;
        assert!(
            matches!(refused, Err(StoreError::NotSnapshotMeta)),
            "{name}: got {refused:?}"
        );
        assert!(export(&store).await.is_empty(), "{name}: nothing written");
        assert_eq!(
            store.get_meta(&name).await.expect("get_meta"),
            None,
            "{name}"
        );
    }
    let mut noted = good.clone();
    noted.meta.push(MetaEntry {
        name: RESTORED_META.to_owned(),
        value: b"{}".to_vec(),
    });
    store
        .import_snapshot(&noted)
        .await
        .expect("the restore's note imports");
    let note = store.get_meta(RESTORED_META).await.expect("get_meta");
    assert_eq!(note.as_deref(), Some(&b"{}"[..]));
}

/// Exports taken while writers create keys (each with its version and tags, and an alias
/// after it) are each one consistent view: every version, tag and alias belongs to a key of
/// the same export, and every key's primary version is in it.
pub async fn export_is_one_consistent_view<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    let writer = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            for n in 100..160 {
                let new = minimal_key(n);
                store
                    .create_key(&new.key, &new.version, &new.tags)
                    .await
                    .expect("create_key");
                let name = format!("alias/k{n}");
                store
                    .create_alias(&alias(&name, &new.key.key_id))
                    .await
                    .expect("alias");
            }
        })
    };
    let mut exports = 0;
    while !writer.is_finished() || exports == 0 {
        assert_consistent(&export(store.as_ref()).await);
        exports += 1;
    }
    writer.await.expect("the writer finished");
    let last = export(store.as_ref()).await;
    assert_consistent(&last);
    assert_eq!(
        last.keys.len(),
        60,
        "every key written is in the last export"
    );
}

/// Every reference inside `s` resolves inside `s`.
fn assert_consistent(s: &Snapshot) {
    let key = |id: &str| s.keys.iter().any(|k| k.key_id == id);
    let version = |id: &str| s.versions.iter().any(|v| v.version_id == id);
    for v in &s.versions {
        assert!(key(&v.key_id), "a version without its key: not one view");
    }
    for k in &s.keys {
        assert!(
            version(&k.primary_version),
            "a key without its version: not one view"
        );
    }
    for a in &s.aliases {
        assert!(key(&a.key_id), "an alias without its key: not one view");
    }
    for t in &s.tags {
        assert!(key(&t.key_id), "a tag without its key: not one view");
    }
}
