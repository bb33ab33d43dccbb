//! The writes, the SQL each one runs, and their retry.
//!
//! Owns how a record becomes rows (enums as their API names, `Option`s as NULL) and the
//! transaction boundaries: `create_key` is one transaction, every other write is a single
//! statement (its own transaction). Returning `Ok` means PostgreSQL acknowledged the commit,
//! which with `synchronous_commit` on (checked at connect, see `schema`) means it is durable.
//! A write that PostgreSQL rolled back as a serialization failure or deadlock is run again,
//! a few times. Does not read records back (see `reads`).

use std::time::Duration;

use deadpool_postgres::{Client, GenericClient, Pool};
use openkms_core::{AccessKeyRecord, AliasRecord, KeyRecord, StoreError, Tag, VersionRecord};

use crate::error::{is_retryable, map_error, pool_error};

/// How many times a write is attempted when PostgreSQL asks for a retry.
const MAX_ATTEMPTS: u32 = 4;

/// The pause before retry `n` is `n` times this.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// One write, borrowing the caller's records.
pub(crate) enum Write<'a> {
    /// Insert a metadata value unless the name is taken.
    PutMetaIfAbsent {
        /// The metadata name.
        name: &'a str,
        /// The value to store.
        value: &'a [u8],
    },
    /// Insert a key, its first version and its tags, all or nothing.
    CreateKey {
        /// The key row.
        key: &'a KeyRecord,
        /// The first version.
        version: &'a VersionRecord,
        /// The tags.
        tags: &'a [Tag],
    },
    /// Insert an alias.
    CreateAlias(&'a AliasRecord),
    /// Insert an AccessKey.
    CreateAccessKey(&'a AccessKeyRecord),
}

/// Runs `write` until it commits, fails for good, or runs out of attempts.
///
/// `Ok(false)` only when a put-if-absent found the name taken.
pub(crate) async fn run(pool: &Pool, write: &Write<'_>) -> Result<bool, StoreError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let mut attempt = 1;
    loop {
        match attempt_write(&mut client, write).await {
            Err(error) if attempt < MAX_ATTEMPTS && is_retryable(&error) => {
                tokio::time::sleep(RETRY_PAUSE * attempt).await;
                attempt += 1;
            }
            result => return result.map_err(|e| map_error(&e)),
        }
    }
}

/// One attempt. On `Err` nothing of the write is kept: a failed statement outside a
/// transaction changes nothing, and dropping an uncommitted transaction rolls it back.
async fn attempt_write(
    client: &mut Client,
    write: &Write<'_>,
) -> Result<bool, tokio_postgres::Error> {
    match write {
        Write::PutMetaIfAbsent { name, value } => put_meta_if_absent(&*client, name, value).await,
        Write::CreateKey { key, version, tags } => {
            let tx = client.transaction().await?;
            insert_key(&tx, key).await?;
            insert_version(&tx, version).await?;
            insert_tags(&tx, &key.key_id, tags).await?;
            tx.commit().await?;
            Ok(true)
        }
        Write::CreateAlias(alias) => insert_alias(&*client, alias).await.map(|()| true),
        Write::CreateAccessKey(key) => insert_access_key(&*client, key).await.map(|()| true),
    }
}

/// Prepares `sql` (cached per connection) and runs it; the number of rows changed.
async fn execute(
    client: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64, tokio_postgres::Error> {
    let statement = client.prepare_cached(sql).await?;
    client.execute(&statement, params).await
}

async fn put_meta_if_absent(
    client: &impl GenericClient,
    name: &str,
    value: &[u8],
) -> Result<bool, tokio_postgres::Error> {
    let sql = "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
    let inserted = execute(client, sql, &[&name, &value]).await?;
    Ok(inserted == 1)
}

async fn insert_key(
    client: &impl GenericClient,
    key: &KeyRecord,
) -> Result<(), tokio_postgres::Error> {
    let sql = "INSERT INTO keys (key_id, description, spec, usage, origin, protection_level, \
               state, creator, created_at, delete_at, primary_version, last_rotation_at, \
               rotation_interval, next_rotation_at, deletion_protection, policy) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 16] = [
        &key.key_id,
        &key.description,
        &key.spec.as_str(),
        &key.usage.as_str(),
        &key.origin.as_str(),
        &key.protection_level.as_str(),
        &key.state.as_str(),
        &key.creator,
        &key.created_at,
        &key.delete_at,
        &key.primary_version,
        &key.last_rotation_at,
        &key.rotation_interval,
        &key.next_rotation_at,
        &key.deletion_protection,
        &key.policy,
    ];
    execute(client, sql, &params).await.map(|_| ())
}

async fn insert_version(
    client: &impl GenericClient,
    version: &VersionRecord,
) -> Result<(), tokio_postgres::Error> {
    let sql = "INSERT INTO key_versions (version_id, key_id, created_at, wrapped_material) \
               VALUES ($1, $2, $3, $4)";
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] = [
        &version.version_id,
        &version.key_id,
        &version.created_at,
        &version.wrapped_material,
    ];
    execute(client, sql, &params).await.map(|_| ())
}

/// Inserts the tags; a tag key given twice is a primary-key violation.
async fn insert_tags(
    client: &impl GenericClient,
    key_id: &str,
    tags: &[Tag],
) -> Result<(), tokio_postgres::Error> {
    let sql = "INSERT INTO key_tags (key_id, tag_key, tag_value) VALUES ($1, $2, $3)";
    for tag in tags {
        execute(client, sql, &[&key_id, &tag.key, &tag.value]).await?;
    }
    Ok(())
}

async fn insert_alias(
    client: &impl GenericClient,
    alias: &AliasRecord,
) -> Result<(), tokio_postgres::Error> {
    let sql = "INSERT INTO aliases (name, key_id, created_at) VALUES ($1, $2, $3)";
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
        [&alias.name, &alias.key_id, &alias.created_at];
    execute(client, sql, &params).await.map(|_| ())
}

async fn insert_access_key(
    client: &impl GenericClient,
    key: &AccessKeyRecord,
) -> Result<(), tokio_postgres::Error> {
    let sql = "INSERT INTO access_keys \
               (access_key_id, \"user\", wrapped_secret, active, created_at) \
               VALUES ($1, $2, $3, $4, $5)";
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] = [
        &key.access_key_id,
        &key.user,
        &key.wrapped_secret,
        &key.active,
        &key.created_at,
    ];
    execute(client, sql, &params).await.map(|_| ())
}
