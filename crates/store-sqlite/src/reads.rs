//! The read queries and how rows become records again.
//!
//! Owns parsing stored values back into records: enums must be a name this build knows and
//! booleans 0 or 1, or the row is `Corrupt`; and the orderings of the lists (SQLite's default
//! `BINARY` collation compares text byte by byte, which is the order the contract asks for). Runs on any connection it is handed; does not
//! choose connections (see `pool`) or write (see `ops`). The reads of RAM identities (users,
//! AccessKeys by owner, policies, attachments) live in [`identities`], the paged (keyset)
//! reads of the listings in [`paging`], the Secrets Manager's in [`secrets`].

mod identities;
mod imports;
mod login;
mod paging;
mod rewrap;
mod secrets;

use crate::row::SqlRow;
use openkms_core::store::records;
use openkms_core::{
    AccessKeyRecord, AliasRecord, KeyRecord, KeyState, StoreError, Tag, VersionRecord,
};
use rusqlite::types::FromSql;
use rusqlite::{Connection, Params, Row, params};

use crate::error::{corrupt, map_error};

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
pub(crate) use self::rewrap::wrapped_blobs;
pub(crate) use self::secrets::{
    SECRET_COLUMNS, due_secrets, get_secret, list_secret_stages, list_secret_tags,
    list_secret_versions, page_secrets, secret_ciphertext,
};

/// Runs `sql` with one text parameter and parses the first row, if any.
fn query_one<T>(
    conn: &Connection,
    sql: &str,
    param: &str,
    parse: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| map_error(&e))?;
    let mut rows = stmt.query([param]).map_err(|e| map_error(&e))?;
    match rows.next().map_err(|e| map_error(&e))? {
        Some(row) => parse(row).map(Some),
        None => Ok(None),
    }
}

/// Runs `sql` with `params` and parses every row, in the order the query returns them.
pub(crate) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    mut parse: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| map_error(&e))?;
    let mut rows = stmt.query(params).map_err(|e| map_error(&e))?;
    let mut parsed = Vec::new();
    while let Some(row) = rows.next().map_err(|e| map_error(&e))? {
        parsed.push(parse(row)?);
    }
    Ok(parsed)
}

/// Reads column `index` as `T`; a value of another type is `Corrupt`, naming `column`.
fn column<T: FromSql>(row: &Row<'_>, index: usize, column: &'static str) -> Result<T, StoreError> {
    row.get(index).map_err(|_| corrupt(column))
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

/// Reads a metadata value.
pub(crate) fn get_meta(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let sql = "SELECT value FROM meta WHERE name = ?1";
    query_one(conn, sql, name, |row| column(row, 0, "meta.value"))
}

/// Reads a key.
pub(crate) fn get_key(conn: &Connection, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
    query_one(conn, select_keys!("WHERE key_id = ?1"), key_id, parse_key)
}

/// Lists every key, oldest first (creation time, then key id in byte order).
pub(crate) fn list_keys(conn: &Connection) -> Result<Vec<KeyRecord>, StoreError> {
    let sql = select_keys!("ORDER BY created_at, key_id");
    query_all(conn, sql, [], parse_key)
}

/// Lists the keys with work due at `now`: pending deletions whose `delete_at <= now` and
/// enabled keys whose `next_rotation_at <= now`, oldest first as [`list_keys`].
pub(crate) fn due_keys(conn: &Connection, now: i64) -> Result<Vec<KeyRecord>, StoreError> {
    let pending = KeyState::PendingDeletion.as_str();
    let enabled = KeyState::Enabled.as_str();
    query_all(conn, DUE_KEYS, params![now, pending, enabled], parse_key)
}

/// The query of [`due_keys`]: `?1` is now, `?2` the pending-deletion state, `?3` enabled.
/// Each side of the `OR` is a search of its own index (`keys_due_deletion`,
/// `keys_due_rotation`), so it does not scan every key.
const DUE_KEYS: &str = select_keys!(
    "WHERE (state = ?2 AND delete_at <= ?1) OR (state = ?3 AND next_rotation_at <= ?1) \
     ORDER BY created_at, key_id"
);

fn parse_key(row: &Row<'_>) -> Result<KeyRecord, StoreError> {
    records::key(&SqlRow(row))
}

/// Reads a key version.
pub(crate) fn get_version(
    conn: &Connection,
    version_id: &str,
) -> Result<Option<VersionRecord>, StoreError> {
    let sql = "SELECT version_id, key_id, created_at, wrapped_material \
               FROM key_versions WHERE version_id = ?1";
    query_one(conn, sql, version_id, parse_version)
}

/// Lists a key's versions, oldest first (creation time, then version id in byte order).
pub(crate) fn list_versions(
    conn: &Connection,
    key_id: &str,
) -> Result<Vec<VersionRecord>, StoreError> {
    let sql = "SELECT version_id, key_id, created_at, wrapped_material \
               FROM key_versions WHERE key_id = ?1 ORDER BY created_at, version_id";
    query_all(conn, sql, [key_id], parse_version)
}

fn parse_version(row: &Row<'_>) -> Result<VersionRecord, StoreError> {
    records::version(&SqlRow(row))
}

/// Whether `version_id` is the id of a destroyed version.
pub(crate) fn is_destroyed_version(
    conn: &Connection,
    version_id: &str,
) -> Result<bool, StoreError> {
    let sql = "SELECT 1 FROM destroyed_versions WHERE version_id = ?1";
    let found = query_one(conn, sql, version_id, |_| Ok(()))?;
    Ok(found.is_some())
}

/// Lists a key's tags, sorted by tag key (byte order).
pub(crate) fn list_tags(conn: &Connection, key_id: &str) -> Result<Vec<Tag>, StoreError> {
    let sql = "SELECT tag_key, tag_value FROM key_tags WHERE key_id = ?1 ORDER BY tag_key";
    query_all(conn, sql, [key_id], |row| records::tag(&SqlRow(row)))
}

/// Reads an alias.
pub(crate) fn get_alias(conn: &Connection, name: &str) -> Result<Option<AliasRecord>, StoreError> {
    let sql = "SELECT name, key_id, created_at FROM aliases WHERE name = ?1";
    query_one(conn, sql, name, parse_alias)
}

/// Lists aliases sorted by name (byte order): every alias, or those of `key_id`.
pub(crate) fn list_aliases(
    conn: &Connection,
    key_id: Option<&str>,
) -> Result<Vec<AliasRecord>, StoreError> {
    match key_id {
        Some(key_id) => {
            let sql = "SELECT name, key_id, created_at FROM aliases WHERE key_id = ?1 \
                       ORDER BY name";
            query_all(conn, sql, [key_id], parse_alias)
        }
        None => {
            let sql = "SELECT name, key_id, created_at FROM aliases ORDER BY name";
            query_all(conn, sql, [], parse_alias)
        }
    }
}

fn parse_alias(row: &Row<'_>) -> Result<AliasRecord, StoreError> {
    records::alias(&SqlRow(row))
}

/// Reads an AccessKey.
pub(crate) fn get_access_key(
    conn: &Connection,
    access_key_id: &str,
) -> Result<Option<AccessKeyRecord>, StoreError> {
    let sql = "SELECT access_key_id, user, wrapped_secret, active, created_at \
               FROM access_keys WHERE access_key_id = ?1";
    query_one(conn, sql, access_key_id, parse_access_key)
}

/// Reads a row of `access_keys` selected as `get_access_key` selects it.
fn parse_access_key(row: &Row<'_>) -> Result<AccessKeyRecord, StoreError> {
    records::access_key(&SqlRow(row))
}

/// Whether there are no keys and no AccessKeys.
pub(crate) fn is_empty(conn: &Connection) -> Result<bool, StoreError> {
    let sql = "SELECT NOT EXISTS (SELECT 1 FROM keys) AND NOT EXISTS (SELECT 1 FROM access_keys)";
    let mut stmt = conn.prepare_cached(sql).map_err(|e| map_error(&e))?;
    let empty: i64 = stmt
        .query_row([], |row| row.get(0))
        .map_err(|e| map_error(&e))?;
    Ok(empty == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{migrate, open_writer};
    use openkms_core::KeySpec;

    fn fresh() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_writer(&dir.path().join("openkms.db")).unwrap();
        migrate(&mut conn).unwrap();
        (dir, conn)
    }

    fn insert_key_row(conn: &Connection, spec: &str, usage: &str, state: &str) {
        conn.execute(
            "INSERT INTO keys VALUES ('k', '', ?1, ?2, 'Aliyun_KMS', 'SOFTWARE', ?3, 'c', 0, \
             NULL, 'v', 0, NULL, NULL, NULL, NULL, 1)",
            [spec, usage, state],
        )
        .unwrap();
    }

    #[test]
    fn well_formed_row_parses() {
        let (_dir, conn) = fresh();
        insert_key_row(&conn, "Aliyun_AES_256", "ENCRYPT/DECRYPT", "Enabled");
        let key = get_key(&conn, "k").unwrap().unwrap();
        assert_eq!(key.spec, KeySpec::AliyunAes256);
    }

    #[test]
    fn unknown_enum_names_are_corrupt() {
        for (spec, usage, state) in [
            ("AES", "ENCRYPT/DECRYPT", "Enabled"),
            ("Aliyun_AES_256", "SIGN", "Enabled"),
            ("Aliyun_AES_256", "ENCRYPT/DECRYPT", "enabled"),
        ] {
            let (_dir, conn) = fresh();
            insert_key_row(&conn, spec, usage, state);
            assert!(matches!(get_key(&conn, "k"), Err(StoreError::Corrupt(_))));
        }
    }

    #[test]
    fn due_keys_searches_the_due_indexes() {
        let (_dir, conn) = fresh();
        let explain = format!("EXPLAIN QUERY PLAN {DUE_KEYS}");
        let mut stmt = conn.prepare(&explain).unwrap();
        let plan: Vec<String> = stmt
            .query_map(params![0, "PendingDeletion", "Enabled"], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("keys_due_deletion"), "{plan}");
        assert!(plan.contains("keys_due_rotation"), "{plan}");
    }

    #[test]
    fn bad_flag_is_corrupt() {
        let (_dir, conn) = fresh();
        conn.execute_batch(
            "PRAGMA ignore_check_constraints = ON; \
             INSERT INTO access_keys VALUES ('a', 'u', x'00', 2, 0);",
        )
        .unwrap();
        assert!(matches!(
            get_access_key(&conn, "a"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
