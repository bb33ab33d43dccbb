//! The export half of [`openkms_core::SnapshotStore`] on PostgreSQL: every table of the
//! snapshot read in one `REPEATABLE READ READ ONLY` transaction, so every `SELECT` sees the
//! same committed state while other nodes keep writing (and none of them waits for it).
//!
//! The import half is a write like the others (`writes::snapshot`). Does not choose which
//! tables are state (the core's `SNAPSHOT_TABLES` does).

use deadpool_postgres::{GenericClient, Pool};
use openkms_core::StoreError;
use openkms_core::store::records;
use openkms_core::store::{Snapshot, is_exported_meta};
use tokio_postgres::IsolationLevel;

use crate::error::{map_error, pool_error};
use crate::row::PgRow;

/// Every record of the snapshot tables, read in one transaction, canonicalized.
pub(crate) async fn export(pool: &Pool) -> Result<Snapshot, StoreError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(|e| map_error(&e))?;
    let snapshot = read_all(&tx).await?;
    tx.commit().await.map_err(|e| map_error(&e))?;
    Ok(snapshot)
}

/// Runs `sql` (no parameters) and maps every row through `parse`.
async fn all<T>(
    client: &impl GenericClient,
    sql: &str,
    parse: impl Fn(&PgRow<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let rows = client.query(sql, &[]).await.map_err(|e| map_error(&e))?;
    rows.iter().map(|row| parse(&PgRow(row))).collect()
}

/// The reads of [`export`], inside its transaction.
async fn read_all(tx: &impl GenericClient) -> Result<Snapshot, StoreError> {
    let mut meta = all(tx, "SELECT name, value FROM meta", |r| records::meta(r)).await?;
    meta.retain(|m| is_exported_meta(&m.name));
    let mut snapshot = Snapshot {
        meta,
        keys: all(tx, SELECT_KEYS, |r| records::key(r)).await?,
        versions: all(tx, SELECT_VERSIONS, |r| records::version(r)).await?,
        tags: all(tx, SELECT_TAGS, |r| records::key_tag(r)).await?,
        aliases: all(tx, SELECT_ALIASES, |r| records::alias(r)).await?,
        destroyed: all(tx, SELECT_DESTROYED, |r| records::destroyed(r)).await?,
        users: all(tx, SELECT_USERS, |r| records::user(r)).await?,
        policies: all(tx, SELECT_POLICIES, |r| records::policy(r)).await?,
        attachments: all(tx, SELECT_ATTACHMENTS, |r| records::attachment(r)).await?,
        access_keys: all(tx, SELECT_ACCESS_KEYS, |r| records::access_key(r)).await?,
        login_profiles: crate::reads::list_login_profiles(tx).await?,
        imports: crate::reads::list_imports(tx).await?,
        secrets: all(tx, &select_secrets(), |r| records::secret(r)).await?,
        secret_versions: all(tx, SELECT_SECRET_VERSIONS, |r| {
            records::stored_secret_version(r)
        })
        .await?,
        secret_stages: all(tx, SELECT_SECRET_STAGES, |r| records::secret_stage(r)).await?,
        secret_tags: all(tx, SELECT_SECRET_TAGS, |r| records::secret_tag(r)).await?,
    };
    snapshot.canonicalize();
    Ok(snapshot)
}

const SELECT_KEYS: &str = "SELECT key_id, description, spec, usage, origin, protection_level, \
    state, creator, created_at, delete_at, primary_version, last_rotation_at, \
    rotation_interval, next_rotation_at, deletion_protection, policy, revision FROM keys";
const SELECT_VERSIONS: &str =
    "SELECT version_id, key_id, created_at, wrapped_material FROM key_versions";
const SELECT_TAGS: &str = "SELECT key_id, tag_key, tag_value FROM key_tags";
const SELECT_ALIASES: &str = "SELECT name, key_id, created_at FROM aliases";
const SELECT_DESTROYED: &str = "SELECT version_id, key_id, destroyed_at FROM destroyed_versions";
const SELECT_USERS: &str = "SELECT user_name, user_id, display_name, mobile_phone, email, \
    comments, created_at FROM users";
const SELECT_POLICIES: &str = "SELECT policy_name, description, document, created_at FROM policies";
const SELECT_ATTACHMENTS: &str =
    "SELECT user_name, policy_type, policy_name, attached_at FROM policy_attachments";
const SELECT_ACCESS_KEYS: &str =
    "SELECT access_key_id, \"user\", wrapped_secret, active, created_at FROM access_keys";

fn select_secrets() -> String {
    format!("SELECT {} FROM secrets", crate::reads::SECRET_COLUMNS)
}
const SELECT_SECRET_VERSIONS: &str =
    "SELECT secret_name, version_id, created_at, data_type, ciphertext FROM secret_versions";
const SELECT_SECRET_STAGES: &str = "SELECT secret_name, stage, version_id FROM secret_stages";
const SELECT_SECRET_TAGS: &str = "SELECT secret_name, tag_key, tag_value FROM secret_tags";
