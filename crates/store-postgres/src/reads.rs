//! The read queries and how rows become records again.
//!
//! Owns parsing stored values back into records: enums must be a name this build knows, or
//! the row is `Corrupt` (as in the SQLite backend). Each read is one statement on a pooled
//! connection, outside any explicit transaction, so it sees every commit acknowledged before
//! it started. Does not write (see `writes`) or build the pool (see `config`). The reads of
//! RAM identities (users, AccessKeys by owner, policies, attachments) live in [`identities`],
//! the paged (keyset) reads of the listings in [`paging`], the Secrets
//! Manager's in [`secrets`].

mod identities;
mod imports;
mod login;
mod paging;
mod secrets;

use crate::row::PgRow;
use deadpool_postgres::{GenericClient, Pool};
use openkms_core::store::records;
use openkms_core::{
    AccessKeyRecord, AliasRecord, KeyRecord, KeyState, StoreError, Tag, VersionRecord, WrappedBlob,
    WrappedRow,
};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSqlOwned, ToSql};

use crate::error::{corrupt, map_error, pool_error};

pub(crate) use self::identities::{
    get_policy, get_user, list_access_keys, list_policies, list_policy_attachments,
    list_user_attachments, list_users,
};
pub(crate) use self::imports::{get_import, list_imports};
pub(crate) use self::login::{get_login_profile, list_login_profiles};
pub(crate) use self::paging::{
    alias_name_at, count_aliases, count_keys, key_cursor_at, page_aliases, page_keys,
    page_policies, page_tags, page_users,
};
pub(crate) use self::secrets::{
    SECRET_COLUMNS, due_secrets, get_secret, list_secret_stages, list_secret_tags,
    list_secret_versions, page_secrets, secret_ciphertext,
};

/// One parameter of a statement.
type Param<'a> = &'a (dyn ToSql + Sync);

/// Runs `sql` with `params` on a pooled connection; every row it returns, in its order.
async fn query(pool: &Pool, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let statement = client
        .prepare_cached(sql)
        .await
        .map_err(|e| map_error(&e))?;
    client
        .query(&statement, params)
        .await
        .map_err(|e| map_error(&e))
}

/// Runs `sql` with one text parameter and parses the first row, if any.
async fn query_one<T>(
    pool: &Pool,
    sql: &str,
    param: &str,
    parse: impl FnOnce(&Row) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let rows = query(pool, sql, &[&param]).await?;
    rows.first().map(parse).transpose()
}

/// Runs `sql` with `params` and parses every row, in the order the query returns them.
async fn query_all<T>(
    pool: &Pool,
    sql: &str,
    params: &[Param<'_>],
    parse: impl FnMut(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let rows = query(pool, sql, params).await?;
    rows.iter().map(parse).collect()
}

/// Reads column `index` as `T`; a value of another type is `Corrupt`, naming `column`.
fn column<T: FromSqlOwned>(row: &Row, index: usize, column: &'static str) -> Result<T, StoreError> {
    row.try_get(index).map_err(|_| corrupt(column))
}

/// Reads a metadata value.
pub(crate) async fn get_meta(pool: &Pool, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let sql = "SELECT value FROM meta WHERE name = $1";
    query_one(pool, sql, name, |row| column(row, 0, "meta.value")).await
}

/// A `SELECT` of every key column, in the order [`parse_key`] reads them, then `$rest`.
macro_rules! select_keys {
    ($rest:literal) => {
        concat!(
            "SELECT key_id, description, spec, usage, origin, protection_level, state, ",
            "creator, created_at, delete_at, primary_version, last_rotation_at, ",
            "rotation_interval, next_rotation_at, deletion_protection, policy, revision ",
            "FROM keys ",
            $rest
        )
    };
}

/// Reads a key.
pub(crate) async fn get_key(pool: &Pool, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
    let sql = select_keys!("WHERE key_id = $1");
    query_one(pool, sql, key_id, parse_key).await
}

/// Lists every key, oldest first (by creation time, then key id in byte order).
pub(crate) async fn list_keys(pool: &Pool) -> Result<Vec<KeyRecord>, StoreError> {
    let sql = select_keys!("ORDER BY created_at, key_id COLLATE \"C\"");
    query_all(pool, sql, &[], parse_key).await
}

/// Lists the keys with work due at `now`: pending deletions whose `delete_at <= now` and
/// enabled keys whose `next_rotation_at <= now`, oldest first as [`list_keys`]. Each side of
/// the `OR` can use its own index (`keys_due_deletion`, `keys_due_rotation`).
pub(crate) async fn due_keys(pool: &Pool, now: i64) -> Result<Vec<KeyRecord>, StoreError> {
    let sql = select_keys!(
        "WHERE (state = $2 AND delete_at <= $1) OR (state = $3 AND next_rotation_at <= $1) \
         ORDER BY created_at, key_id COLLATE \"C\""
    );
    let pending = KeyState::PendingDeletion.as_str();
    let enabled = KeyState::Enabled.as_str();
    query_all(pool, sql, &[&now, &pending, &enabled], parse_key).await
}

fn parse_key(row: &Row) -> Result<KeyRecord, StoreError> {
    records::key(&PgRow(row))
}

/// Reads a key version.
pub(crate) async fn get_version(
    pool: &Pool,
    version_id: &str,
) -> Result<Option<VersionRecord>, StoreError> {
    let sql = "SELECT version_id, key_id, created_at, wrapped_material \
               FROM key_versions WHERE version_id = $1";
    query_one(pool, sql, version_id, parse_version).await
}

/// Lists a key's versions, oldest first (by creation time, then version id in byte order).
pub(crate) async fn list_versions(
    pool: &Pool,
    key_id: &str,
) -> Result<Vec<VersionRecord>, StoreError> {
    let sql = "SELECT version_id, key_id, created_at, wrapped_material \
               FROM key_versions WHERE key_id = $1 \
               ORDER BY created_at, version_id COLLATE \"C\"";
    query_all(pool, sql, &[&key_id], parse_version).await
}

fn parse_version(row: &Row) -> Result<VersionRecord, StoreError> {
    records::version(&PgRow(row))
}

/// Whether `version_id` was a version of a destroyed key.
pub(crate) async fn is_destroyed_version(
    pool: &Pool,
    version_id: &str,
) -> Result<bool, StoreError> {
    let sql = "SELECT 1 FROM destroyed_versions WHERE version_id = $1";
    let found = query_one(pool, sql, version_id, |_| Ok(())).await?;
    Ok(found.is_some())
}

/// Lists a key's tags in byte order of the tag key (`COLLATE "C"`, not the locale's).
pub(crate) async fn list_tags(pool: &Pool, key_id: &str) -> Result<Vec<Tag>, StoreError> {
    let sql = "SELECT tag_key, tag_value FROM key_tags WHERE key_id = $1 \
               ORDER BY tag_key COLLATE \"C\"";
    query_all(pool, sql, &[&key_id], |row| records::tag(&PgRow(row))).await
}

/// Reads an alias.
pub(crate) async fn get_alias(pool: &Pool, name: &str) -> Result<Option<AliasRecord>, StoreError> {
    let sql = "SELECT name, key_id, created_at FROM aliases WHERE name = $1";
    query_one(pool, sql, name, parse_alias).await
}

/// Lists aliases sorted by name in byte order: every alias, or those of `key_id`.
pub(crate) async fn list_aliases(
    pool: &Pool,
    key_id: Option<&str>,
) -> Result<Vec<AliasRecord>, StoreError> {
    match key_id {
        Some(key_id) => {
            let sql = "SELECT name, key_id, created_at FROM aliases WHERE key_id = $1 \
                       ORDER BY name COLLATE \"C\"";
            query_all(pool, sql, &[&key_id], parse_alias).await
        }
        None => {
            let sql = "SELECT name, key_id, created_at FROM aliases ORDER BY name COLLATE \"C\"";
            query_all(pool, sql, &[], parse_alias).await
        }
    }
}

fn parse_alias(row: &Row) -> Result<AliasRecord, StoreError> {
    records::alias(&PgRow(row))
}

/// Reads an AccessKey.
pub(crate) async fn get_access_key(
    pool: &Pool,
    access_key_id: &str,
) -> Result<Option<AccessKeyRecord>, StoreError> {
    let sql = "SELECT access_key_id, \"user\", wrapped_secret, active, created_at \
               FROM access_keys WHERE access_key_id = $1";
    query_one(pool, sql, access_key_id, parse_access_key).await
}

/// Reads a row of `access_keys` selected as `get_access_key` selects it.
fn parse_access_key(row: &Row) -> Result<AccessKeyRecord, StoreError> {
    records::access_key(&PgRow(row))
}

/// Whether there are no keys and no AccessKeys.
pub(crate) async fn is_empty(pool: &Pool) -> Result<bool, StoreError> {
    let sql = "SELECT NOT EXISTS (SELECT 1 FROM keys) AND NOT EXISTS (SELECT 1 FROM access_keys)";
    let rows = query(pool, sql, &[]).await?;
    let row = rows.first().ok_or_else(|| corrupt("is_empty"))?;
    column(row, 0, "is_empty")
}

/// Every key version's material and AccessKey's secret, in one statement (one snapshot).
pub(crate) async fn wrapped_blobs(pool: &Pool) -> Result<Vec<WrappedBlob>, StoreError> {
    let sql = "SELECT v.key_id, v.version_id, k.protection_level = 'SOFTWARE', \
               v.wrapped_material FROM key_versions v JOIN keys k USING (key_id) \
               UNION ALL SELECT '', access_key_id, true, wrapped_secret FROM access_keys";
    query_all(pool, sql, &[], |row| {
        let key_id: String = column(row, 0, "key_versions.key_id")?;
        let id: String = column(row, 1, "key_versions.version_id")?;
        let row_kind = match key_id.is_empty() {
            true => WrappedRow::AccessKey { access_key_id: id },
            false => WrappedRow::Version {
                key_id,
                version_id: id,
                software: column(row, 2, "keys.protection_level")?,
            },
        };
        Ok(WrappedBlob {
            row: row_kind,
            bytes: column(row, 3, "wrapped bytes")?,
        })
    })
    .await
}
