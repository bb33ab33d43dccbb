//! Proves that `destroy_key` removes a key from the SQLite files, not just from view.
//!
//! The conformance suite shows a destroyed key cannot be read through the store; this file
//! looks underneath: the rows are gone from every table, the version ids are tombstoned, and
//! the wrapped material's bytes appear neither in the database file nor in its WAL.

use std::path::Path;

use openkms_core::{AliasStore, KeyStore, TagStore};
use openkms_store_sqlite::SqliteStore;
use openkms_store_tests::fixtures::{MAX_TAGS, full_key, key_id, minimal_key, tag, version_id};

/// Whether `needle` occurs in the database file or its WAL.
fn on_disk(db: &Path, needle: &[u8]) -> bool {
    let wal = db.with_file_name("openkms.db-wal");
    [db, wal.as_path()].into_iter().any(|path| {
        let bytes = std::fs::read(path).unwrap_or_default();
        bytes.windows(needle.len()).any(|w| w == needle)
    })
}

/// Counts the rows of `table` whose `key_id` is `key`, through a raw connection.
fn rows_of(db: &Path, table: &str, key: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open the database");
    let sql = format!("SELECT count(*) FROM {table} WHERE key_id = ?1");
    conn.query_row(&sql, [key], |row| row.get(0))
        .expect("count rows")
}

/// Creates keys 1 (doomed) and 2 (kept) with tags and an alias each, then closes the store.
async fn create_two_keys(db: &Path) {
    let store = SqliteStore::open(db).expect("open");
    for new in [full_key(1), minimal_key(2)] {
        let id = &new.key.key_id;
        store
            .create_key(&new.key, &new.version, &new.tags)
            .await
            .expect("create_key");
        store
            .put_tags(id, &[tag("t", "v")], MAX_TAGS)
            .await
            .expect("put_tags");
        let alias = openkms_store_tests::fixtures::alias(&format!("alias/{id}"), id);
        store.create_alias(&alias).await.expect("create_alias");
    }
}

#[test]
fn destroyed_rows_and_material_are_gone_from_the_files() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("openkms.db");
    let doomed = full_key(1).version.wrapped_material;
    let kept = minimal_key(2).version.wrapped_material;
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(create_two_keys(&db));
    assert!(on_disk(&db, &doomed), "the material is on disk before");
    let store = SqliteStore::open(&db).expect("reopen");
    runtime
        .block_on(store.destroy_key(&key_id(1)))
        .expect("destroy_key");
    for table in ["keys", "key_versions", "key_tags", "aliases"] {
        assert_eq!(rows_of(&db, table, &key_id(1)), 0, "no {table} rows left");
        assert_eq!(
            rows_of(&db, table, &key_id(2)),
            1,
            "the other key's {table} row"
        );
    }
    assert_eq!(
        rows_of(&db, "destroyed_versions", &key_id(1)),
        1,
        "one tombstone"
    );
    assert!(
        !on_disk(&db, &doomed),
        "the material is gone from the files"
    );
    assert!(
        on_disk(&db, &kept),
        "the other key's material is still there"
    );
    let destroyed = runtime.block_on(store.is_destroyed_version(&version_id(1)));
    assert!(destroyed.expect("is_destroyed_version"));
}

/// A ciphertext of a secret version that is easy to find in the files.
fn secret_ciphertext(tag: u8) -> Vec<u8> {
    let mut bytes = b"openkms-secret-ciphertext-marker-".to_vec();
    bytes.extend(std::iter::repeat_n(tag, 64));
    bytes
}

/// Destroying a secret removes its rows and its versions' ciphertexts from the files, as
/// destroying a key removes its material; an overwritten (dropped) version too.
#[test]
fn destroyed_secret_ciphertexts_are_gone_from_the_files() {
    use openkms_core::{SecretChange, SecretDataType, SecretRecord, SecretStage, SecretStore};
    use openkms_core::{SecretVersion, StoredSecretVersion};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("openkms.db");
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let record = |name: &str| SecretRecord {
        name: name.into(),
        secret_type: "Generic".into(),
        description: String::new(),
        encryption_key_id: None,
        created_at: 1,
        updated_at: 1,
        planned_delete_at: None,
        policy: None,
        revision: 1,
    };
    let version = |name: &str, id: &str, tag: u8| StoredSecretVersion {
        version: SecretVersion {
            secret_name: name.into(),
            version_id: id.into(),
            created_at: 1,
            data_type: SecretDataType::Text,
        },
        ciphertext: secret_ciphertext(tag),
    };
    let stage = |name: &str, id: &str| SecretStage {
        secret_name: name.into(),
        stage: "ACSCurrent".into(),
        version_id: id.into(),
    };
    let store = SqliteStore::open(&db).expect("open");
    runtime.block_on(async {
        for (name, tag) in [("doomed", 1u8), ("kept", 2u8)] {
            let v = version(name, "v1", tag);
            store
                .create_secret(&record(name), &v, &[stage(name, "v1")], &[tag_of()])
                .await
                .expect("create_secret");
        }
        let mut next = record("kept");
        next.revision = 2;
        let change = SecretChange {
            secret: next,
            added: Some(version("kept", "v2", 3)),
            dropped: vec!["v1".into()],
            stages: vec![stage("kept", "v2")],
        };
        store
            .update_secret(&change)
            .await
            .expect("replace kept's v1");
        store
            .destroy_secret("doomed")
            .await
            .expect("destroy_secret");
    });
    drop(store);
    assert!(
        !on_disk(&db, &secret_ciphertext(1)),
        "the destroyed secret's ciphertext"
    );
    assert!(
        !on_disk(&db, &secret_ciphertext(2)),
        "the dropped version's ciphertext"
    );
    assert!(
        on_disk(&db, &secret_ciphertext(3)),
        "the kept version is still there"
    );
}

fn tag_of() -> openkms_core::Tag {
    tag("t", "v")
}
