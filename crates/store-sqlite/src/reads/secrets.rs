//! The reads of the Secrets Manager: a secret, its versions (without values), its stage
//! labels, one version's ciphertext, the page of secrets by name, due deletions, tags.
//!
//! Rows become records through `openkms_core::store::records`; orderings are SQLite's
//! `BINARY` collation (byte order). Does not write (see `ops::secrets`).

use openkms_core::store::records;
use openkms_core::{SecretRecord, SecretStage, SecretVersion, StoreError, Tag};
use rusqlite::{Connection, params};

use super::{query_all, query_one};
use crate::row::SqlRow;

/// The columns of a secret, in the order `records::secret` reads them.
pub(crate) const SECRET_COLUMNS: &str = "name, secret_type, description, encryption_key_id, \
    created_at, updated_at, planned_delete_at, policy, revision";

pub(crate) fn get_secret(
    conn: &Connection,
    name: &str,
) -> Result<Option<SecretRecord>, StoreError> {
    let sql = format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE name = ?1");
    query_one(conn, &sql, name, |row| records::secret(&SqlRow(row)))
}

pub(crate) fn list_secret_versions(
    conn: &Connection,
    name: &str,
) -> Result<Vec<SecretVersion>, StoreError> {
    let sql = "SELECT secret_name, version_id, created_at, data_type FROM secret_versions \
               WHERE secret_name = ?1 ORDER BY created_at, version_id";
    query_all(conn, sql, [name], |row| {
        records::secret_version(&SqlRow(row))
    })
}

pub(crate) fn list_secret_stages(
    conn: &Connection,
    name: &str,
) -> Result<Vec<SecretStage>, StoreError> {
    let sql = "SELECT secret_name, stage, version_id FROM secret_stages \
               WHERE secret_name = ?1 ORDER BY stage";
    query_all(conn, sql, [name], |row| records::secret_stage(&SqlRow(row)))
}

pub(crate) fn secret_ciphertext(
    conn: &Connection,
    name: &str,
    version_id: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let sql = "SELECT ciphertext FROM secret_versions WHERE secret_name = ?1 AND version_id = ?2";
    let rows = query_all(conn, sql, params![name, version_id], |row| {
        row.get::<_, Vec<u8>>(0)
            .map_err(|_| records::corrupt("secret_versions.ciphertext"))
    })?;
    Ok(rows.into_iter().next())
}

pub(crate) fn page_secrets(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<SecretRecord>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let sql = format!(
        "SELECT {SECRET_COLUMNS} FROM secrets WHERE ?1 IS NULL OR name > ?1 ORDER BY name LIMIT ?2"
    );
    query_all(conn, &sql, params![after, limit], |row| {
        records::secret(&SqlRow(row))
    })
}

pub(crate) fn due_secrets(conn: &Connection, now: i64) -> Result<Vec<String>, StoreError> {
    let sql = "SELECT name FROM secrets WHERE planned_delete_at <= ?1 ORDER BY name";
    query_all(conn, sql, [now], |row| {
        row.get::<_, String>(0)
            .map_err(|_| records::corrupt("secrets.name"))
    })
}

pub(crate) fn list_secret_tags(conn: &Connection, name: &str) -> Result<Vec<Tag>, StoreError> {
    let sql = "SELECT tag_key, tag_value FROM secret_tags WHERE secret_name = ?1 ORDER BY tag_key";
    query_all(conn, sql, [name], |row| records::tag(&SqlRow(row)))
}
