//! PostgreSQL-specific behaviour the shared suite cannot see.
//!
//! Owns the checks of this backend's own promises: migrations run once when nodes start
//! together, an older schema is upgraded and a newer one refused, a non-durable server is
//! refused, unreadable rows are `Corrupt`, `sslmode=require` never falls back to plaintext, a
//! nonce used at one node is refused at another, a rotation is refused while a node serves,
//! `Debug` hides the password, and every table is known to backup (carried by a snapshot or
//! left out on purpose). Each check uses its own schema (see `common`) and is skipped, or fails under
//! CI, when the database is absent. The `Store` contract itself is the suite's
//! (`conformance.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use openkms_core::{IdentityStore, KeyStore, ReplayStore, StoreError};
use openkms_store_postgres::PostgresStore;
use openkms_store_tests::fixtures::minimal_key;

use crate::common::{POOL_SIZE, TestSchema, database_available, database_url, raw_client};

async fn open(schema: &TestSchema) -> Result<PostgresStore, StoreError> {
    PostgresStore::connect_with_schema(&database_url(), POOL_SIZE, &schema.name).await
}

/// `url` with one more query parameter.
fn with_param(url: &str, param: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{param}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_migrate_once() {
    if !database_available() {
        return;
    }
    let schema = TestSchema::new();
    let mut nodes = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let name = schema.name.clone();
        nodes.spawn(
            async move { PostgresStore::connect_with_schema(&database_url(), 2, &name).await },
        );
    }
    let mut stores = Vec::new();
    while let Some(joined) = nodes.join_next().await {
        stores.push(joined.unwrap().expect("every node connects"));
    }
    let client = raw_client(Some(&schema.name)).await.unwrap();
    let row = client
        .query_one(
            "SELECT count(*), max(version) FROM openkms_schema_migrations",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 8, "each migration was recorded once");
    assert_eq!(row.get::<_, i64>(1), 8);
    let new = minimal_key(1);
    stores[0]
        .create_key(&new.key, &new.version, &new.tags)
        .await
        .unwrap();
    let read = stores[5].get_key(&new.key.key_id).await.unwrap();
    assert_eq!(read, Some(new.key), "one node reads what another wrote");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_schema_is_refused() {
    if !database_available() {
        return;
    }
    let schema = TestSchema::new();
    drop(open(&schema).await.unwrap());
    let client = raw_client(Some(&schema.name)).await.unwrap();
    client
        .batch_execute("INSERT INTO openkms_schema_migrations VALUES (99, 0)")
        .await
        .unwrap();
    let result = open(&schema).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_durable_server_is_refused() {
    if !database_available() {
        return;
    }
    let schema = TestSchema::new();
    let url = with_param(&database_url(), "options=-c%20synchronous_commit%3Doff");
    let result = PostgresStore::connect_with_schema(&url, 1, &schema.name).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_enum_names_are_corrupt() {
    if !database_available() {
        return;
    }
    let schema = TestSchema::new();
    let store = open(&schema).await.unwrap();
    let client = raw_client(Some(&schema.name)).await.unwrap();
    for (id, spec, state) in [("a", "AES", "Enabled"), ("b", "Aliyun_AES_256", "enabled")] {
        let sql = "INSERT INTO keys VALUES ($1, '', $2, 'ENCRYPT/DECRYPT', 'Aliyun_KMS', \
                   'SOFTWARE', $3, 'c', 0, NULL, 'v', 0, NULL, NULL, NULL, NULL)";
        client.execute(sql, &[&id, &spec, &state]).await.unwrap();
        let read = store.get_key(id).await;
        assert!(
            matches!(read, Err(StoreError::Corrupt(_))),
            "{id}: {read:?}"
        );
    }
}

/// Turns a current schema back into version 1 (as a database made before the key
/// lifecycle), with one key row and one AccessKey in it.
const BACK_TO_V1: &str = "
DROP TABLE key_imports;
DROP TABLE secret_tags;
DROP TABLE secret_stages;
DROP TABLE secret_versions;
DROP TABLE secrets;
DROP TABLE login_profiles;
DROP INDEX keys_listing;
DROP INDEX aliases_listing;
DROP INDEX aliases_by_key;
DROP INDEX key_tags_listing;
DROP INDEX key_tags_by_key;
DROP INDEX key_tags_by_value;
DROP INDEX access_keys_user;
DROP TABLE policy_attachments;
DROP TABLE policies;
DROP TABLE users;
DROP TABLE nonces;
DROP INDEX keys_due_deletion;
DROP INDEX keys_due_rotation;
DROP TABLE destroyed_versions;
ALTER TABLE keys DROP COLUMN revision;
DELETE FROM openkms_schema_migrations WHERE version > 1;
INSERT INTO keys VALUES ('k', '', 'Aliyun_AES_256', 'ENCRYPT/DECRYPT', 'Aliyun_KMS',
    'SOFTWARE', 'Enabled', 'c', 0, NULL, 'v', 0, NULL, NULL, NULL, NULL);
INSERT INTO access_keys VALUES ('ak', 'alice', '\\x00', true, 0);
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_1_schema_is_upgraded_keeping_its_keys() {
    if !database_available() {
        return;
    }
    let schema = TestSchema::new();
    drop(open(&schema).await.unwrap());
    let client = raw_client(Some(&schema.name)).await.unwrap();
    client.batch_execute(BACK_TO_V1).await.unwrap();
    let store = open(&schema).await.unwrap();
    let key = store
        .get_key("k")
        .await
        .unwrap()
        .expect("the old key is kept");
    assert_eq!(
        key.revision, 1,
        "keys from before revisions start at revision 1"
    );
    assert!(!store.is_destroyed_version("v").await.unwrap());
    let row = client
        .query_one("SELECT max(version) FROM openkms_schema_migrations", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 8);
    assert!(
        store.use_nonce("ak", "n", 100, 0).await.unwrap(),
        "the nonce table exists after the upgrade"
    );
    let keys = store.list_access_keys("alice").await.unwrap();
    assert_eq!(keys.len(), 1, "AccessKeys from before users are kept");
    assert!(
        store.list_users().await.unwrap().is_empty(),
        "the user table exists after the upgrade"
    );
    assert!(
        store.list_policies().await.unwrap().is_empty(),
        "the policy table exists after the upgrade"
    );
}

/// The issue-7 promise: a nonce used at one node is refused at every other, even when the
/// nodes race for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nonce_used_at_one_node_is_refused_at_another() {
    if !database_available() {
        return;
    }
    let schema = TestSchema::new();
    let a = Arc::new(open(&schema).await.unwrap());
    let b = Arc::new(open(&schema).await.unwrap());
    assert!(a.use_nonce("ak", "first", 1_000, 500).await.unwrap());
    assert!(
        !b.use_nonce("ak", "first", 1_000, 500).await.unwrap(),
        "node B refuses the nonce node A used"
    );
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..32 {
        let node = Arc::clone(if i % 2 == 0 { &a } else { &b });
        racers.spawn(async move { node.use_nonce("ak", "raced", 1_000, 500).await.unwrap() });
    }
    let mut winners = 0;
    while let Some(joined) = racers.join_next().await {
        winners += u32::from(joined.unwrap());
    }
    assert_eq!(winners, 1, "exactly one node records a raced nonce");
}

/// Serving nodes share the serving lock; a rotation gets it only when none holds it, and
/// another schema's lock is another lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_is_refused_while_a_node_serves() {
    if !database_available() {
        return;
    }
    let schema = TestSchema::new();
    let (a, b) = (open(&schema).await.unwrap(), open(&schema).await.unwrap());
    let serving_a = a.hold_serving_lock().await.unwrap();
    let serving_b = b.hold_serving_lock().await.unwrap();
    let rotation = open(&schema).await.unwrap();
    assert!(rotation.try_exclusive_lock().await.unwrap().is_none());
    drop(serving_a);
    assert!(
        rotation.try_exclusive_lock().await.unwrap().is_none(),
        "B still serves"
    );
    drop(serving_b);
    let other = TestSchema::new();
    let elsewhere = open(&other).await.unwrap();
    let _other_node = elsewhere.hold_serving_lock().await.unwrap();
    let held = rotation.try_exclusive_lock().await.unwrap();
    assert!(held.is_some(), "no node serves this schema");
    let waiting = tokio::spawn(async move { a.hold_serving_lock().await.map(|_| ()) });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !waiting.is_finished(),
        "a node starting waits for the rotation"
    );
    drop(held);
    waiting.await.unwrap().unwrap();
}

/// Assumes the server's certificate is not in the platform's roots (a Debian snakeoil
/// certificate, or no TLS at all): then `require` must refuse, never connect in plaintext.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_does_not_fall_back_to_plaintext() {
    if !database_available() {
        return;
    }
    let schema = TestSchema::new();
    let url = with_param(&database_url(), "sslmode=require");
    let result = PostgresStore::connect_with_schema(&url, 1, &schema.name).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_database_is_unreachable() {
    // Unreachable, not Unavailable: the API answers it with a retryable 503 (issue 13).
    let url = "postgres://openkms:secret-pw@127.0.0.1:1/none?connect_timeout=5";
    let result = PostgresStore::connect(url, 1).await;
    let Err(StoreError::Unreachable(message)) = result else {
        panic!("expected Unreachable, got {result:?}");
    };
    assert!(!message.contains("secret-pw"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_shows_the_target_but_not_the_password() {
    if !database_available() {
        return;
    }
    let schema = TestSchema::new();
    // Trust authentication ignores a password, so one can be added to the URL for the check.
    let url = database_url().replacen("://postgres@", "://postgres:secret-pw@", 1);
    let store = PostgresStore::connect_with_schema(&url, 3, &schema.name)
        .await
        .unwrap();
    let debug = format!("{store:?}");
    assert!(!debug.contains("secret-pw"), "{debug}");
    assert!(debug.contains(&schema.name), "{debug}");
    assert!(debug.contains("pool_size: 3"), "{debug}");
}

/// Every table of the schema is either carried by a backup snapshot or left out on purpose:
/// a new table fails here until the core's `SNAPSHOT_TABLES` or `OTHER_TABLES` names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_is_snapshot_state_or_named_as_not() {
    use openkms_core::store::{OTHER_TABLES, SNAPSHOT_TABLES};
    if !database_available() {
        return;
    }
    let schema = TestSchema::new();
    let _store = open(&schema).await.unwrap();
    let client = raw_client(Some(&schema.name)).await.unwrap();
    let rows = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            &[&schema.name],
        )
        .await
        .unwrap();
    let tables: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    for table in &tables {
        let known = SNAPSHOT_TABLES.contains(&table.as_str())
            || OTHER_TABLES.iter().any(|(t, _)| t == table);
        assert!(
            known,
            "table {table} is neither in SNAPSHOT_TABLES nor OTHER_TABLES"
        );
    }
    for table in SNAPSHOT_TABLES
        .iter()
        .chain(OTHER_TABLES.iter().map(|(t, _)| t))
    {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} is not in the schema"
        );
    }
}
