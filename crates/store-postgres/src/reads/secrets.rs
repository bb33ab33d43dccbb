//! The reads of the Secrets Manager on PostgreSQL: a secret, its versions (without values),
//! its stage labels, one version's ciphertext, the page of secrets by name (byte order,
//! `COLLATE "C"`), due deletions, tags. Rows become records through
//! `openkms_core::store::records`. Does not write (see `writes::secrets`).

use deadpool_postgres::Pool;
use openkms_core::store::records;
use openkms_core::{SecretRecord, SecretStage, SecretVersion, StoreError, Tag};

use super::{Param, column, query_all, query_one};
use crate::row::PgRow;

/// The columns of a secret, in the order `records::secret` reads them.
pub(crate) const SECRET_COLUMNS: &str = "name, secret_type, description, encryption_key_id, \
    created_at, updated_at, planned_delete_at, policy, revision";

pub(crate) async fn get_secret(
    pool: &Pool,
    name: &str,
) -> Result<Option<SecretRecord>, StoreError> {
    let sql = format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE name = $1");
    query_one(pool, &sql, name, |row| records::secret(&PgRow(row))).await
}

pub(crate) async fn list_secret_versions(
    pool: &Pool,
    name: &str,
) -> Result<Vec<SecretVersion>, StoreError> {
    let sql = "SELECT secret_name, version_id, created_at, data_type FROM secret_versions \
               WHERE secret_name = $1 ORDER BY created_at, version_id COLLATE \"C\"";
    query_all(pool, sql, &[&name], |row| {
        records::secret_version(&PgRow(row))
    })
    .await
}

pub(crate) async fn list_secret_stages(
    pool: &Pool,
    name: &str,
) -> Result<Vec<SecretStage>, StoreError> {
    let sql = "SELECT secret_name, stage, version_id FROM secret_stages \
               WHERE secret_name = $1 ORDER BY stage COLLATE \"C\"";
    query_all(pool, sql, &[&name], |row| {
        records::secret_stage(&PgRow(row))
    })
    .await
}

pub(crate) async fn secret_ciphertext(
    pool: &Pool,
    name: &str,
    version_id: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let sql = "SELECT ciphertext FROM secret_versions WHERE secret_name = $1 AND version_id = $2";
    let params: [Param<'_>; 2] = [&name, &version_id];
    let rows = query_all(pool, sql, &params, |row| {
        column(row, 0, "secret_versions.ciphertext")
    })
    .await?;
    Ok(rows.into_iter().next())
}

pub(crate) async fn page_secrets(
    pool: &Pool,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<SecretRecord>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let sql = format!(
        "SELECT {SECRET_COLUMNS} FROM secrets WHERE $1::text IS NULL \
         OR name COLLATE \"C\" > $1::text ORDER BY name COLLATE \"C\" LIMIT $2"
    );
    let params: [Param<'_>; 2] = [&after, &limit];
    query_all(pool, &sql, &params, |row| records::secret(&PgRow(row))).await
}

pub(crate) async fn due_secrets(pool: &Pool, now: i64) -> Result<Vec<String>, StoreError> {
    let sql = "SELECT name FROM secrets WHERE planned_delete_at <= $1 ORDER BY name COLLATE \"C\"";
    query_all(pool, sql, &[&now], |row| column(row, 0, "secrets.name")).await
}

pub(crate) async fn list_secret_tags(pool: &Pool, name: &str) -> Result<Vec<Tag>, StoreError> {
    let sql = "SELECT tag_key, tag_value FROM secret_tags WHERE secret_name = $1 \
               ORDER BY tag_key COLLATE \"C\"";
    query_all(pool, sql, &[&name], |row| records::tag(&PgRow(row))).await
}
