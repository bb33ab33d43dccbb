//! The [`openkms_core::SnapshotStore`] of SQLite: a whole database read in one read
//! transaction, and written into an empty one in one write transaction.
//!
//! The export runs on a pooled read-only connection: in WAL mode one `BEGIN` … `COMMIT` sees
//! one committed state for every `SELECT` in it, however the writer (this process's or a
//! running server's) commits meanwhile, and blocks no writer. The import is one command of the
//! writer thread, so it is one savepoint of one transaction: it checks that no table of the
//! snapshot holds a row, then inserts with the same statements the ordinary writes use. Does
//! not choose which tables are state (the core's `SNAPSHOT_TABLES` does).

use openkms_core::StoreError;
use openkms_core::store::records;
use openkms_core::store::{SNAPSHOT_TABLES, Snapshot, check_importable, is_exported_meta};
use rusqlite::{Connection, Row, params};

use crate::error::{WriteError, map_error};
use crate::ops::{
    attach_policy, insert_access_key, insert_alias, insert_key, insert_policy, insert_secret,
    insert_secret_tag, insert_secret_version, insert_stages, insert_tags, insert_user,
    insert_version, put_meta_if_absent,
};
use crate::reads::query_all;
use crate::row::SqlRow;

/// Every record of the snapshot tables, read in one transaction, canonicalized.
pub(crate) fn export(conn: &Connection) -> Result<Snapshot, StoreError> {
    let tx = conn.unchecked_transaction().map_err(|e| map_error(&e))?;
    let snapshot = read_all(&tx)?;
    tx.commit().map_err(|e| map_error(&e))?;
    Ok(snapshot)
}

/// Runs `sql` (no parameters) and maps every row through `parse`.
fn all<T>(
    conn: &Connection,
    sql: &str,
    parse: impl Fn(&SqlRow<'_, '_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    query_all(conn, sql, [], |row: &Row<'_>| parse(&SqlRow(row)))
}

/// The reads of [`export`], inside its transaction.
fn read_all(conn: &Connection) -> Result<Snapshot, StoreError> {
    let mut meta = all(conn, "SELECT name, value FROM meta", |r| records::meta(r))?;
    meta.retain(|m| is_exported_meta(&m.name));
    let mut snapshot = Snapshot {
        meta,
        keys: all(conn, SELECT_KEYS, |r| records::key(r))?,
        versions: all(conn, SELECT_VERSIONS, |r| records::version(r))?,
        tags: all(conn, SELECT_TAGS, |r| records::key_tag(r))?,
        aliases: all(conn, SELECT_ALIASES, |r| records::alias(r))?,
        destroyed: all(conn, SELECT_DESTROYED, |r| records::destroyed(r))?,
        users: all(conn, SELECT_USERS, |r| records::user(r))?,
        policies: all(conn, SELECT_POLICIES, |r| records::policy(r))?,
        attachments: all(conn, SELECT_ATTACHMENTS, |r| records::attachment(r))?,
        access_keys: all(conn, SELECT_ACCESS_KEYS, |r| records::access_key(r))?,
        login_profiles: crate::reads::list_login_profiles(conn)?,
        secrets: all(conn, &SELECT_SECRETS, |r| records::secret(r))?,
        secret_versions: all(conn, SELECT_SECRET_VERSIONS, |r| {
            records::stored_secret_version(r)
        })?,
        secret_stages: all(conn, SELECT_SECRET_STAGES, |r| records::secret_stage(r))?,
        secret_tags: all(conn, SELECT_SECRET_TAGS, |r| records::secret_tag(r))?,
        imports: crate::reads::list_imports(conn)?,
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
    "SELECT access_key_id, user, wrapped_secret, active, created_at FROM access_keys";

static SELECT_SECRETS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {} FROM secrets", crate::reads::SECRET_COLUMNS));
const SELECT_SECRET_VERSIONS: &str =
    "SELECT secret_name, version_id, created_at, data_type, ciphertext FROM secret_versions";
const SELECT_SECRET_STAGES: &str = "SELECT secret_name, stage, version_id FROM secret_stages";
const SELECT_SECRET_TAGS: &str = "SELECT secret_name, tag_key, tag_value FROM secret_tags";

/// Writes `snapshot` into the database if no snapshot table holds a row (`NotEmpty`
/// otherwise). Runs inside the writer's savepoint, which rolls every row back on `Err`.
pub(crate) fn import(conn: &Connection, snapshot: &Snapshot) -> Result<(), WriteError> {
    check_importable(snapshot).map_err(WriteError::Refused)?;
    if !is_empty(conn)? {
        return Err(WriteError::Refused(StoreError::NotEmpty));
    }
    for m in &snapshot.meta {
        if put_meta_if_absent(conn, &m.name, &m.value)? == 0 {
            return Err(WriteError::Refused(StoreError::AlreadyExists));
        }
    }
    import_keys(conn, snapshot)?;
    import_identities(conn, snapshot)?;
    Ok(import_secrets(conn, snapshot)?)
}

/// Secrets, their versions, stages and tags.
fn import_secrets(conn: &Connection, snapshot: &Snapshot) -> rusqlite::Result<()> {
    for secret in &snapshot.secrets {
        insert_secret(conn, secret)?;
    }
    for version in &snapshot.secret_versions {
        insert_secret_version(conn, version)?;
    }
    insert_stages(conn, &snapshot.secret_stages)?;
    for row in &snapshot.secret_tags {
        insert_secret_tag(conn, &row.secret_name, &row.tag)?;
    }
    Ok(())
}

/// Whether every table of the snapshot is empty.
fn is_empty(conn: &Connection) -> rusqlite::Result<bool> {
    for table in SNAPSHOT_TABLES {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {table})");
        let any: bool = conn.query_row(&sql, [], |row| row.get(0))?;
        if any {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Keys, versions, tags, aliases and tombstones.
fn import_keys(conn: &Connection, snapshot: &Snapshot) -> rusqlite::Result<()> {
    for key in &snapshot.keys {
        insert_key(conn, key)?;
    }
    for version in &snapshot.versions {
        insert_version(conn, version)?;
    }
    for row in &snapshot.tags {
        insert_tags(conn, &row.key_id, std::slice::from_ref(&row.tag))?;
    }
    for alias in &snapshot.aliases {
        insert_alias(conn, alias)?;
    }
    for import in &snapshot.imports {
        crate::ops::insert_import(conn, import)?;
    }
    let sql = "INSERT INTO destroyed_versions (version_id, key_id, destroyed_at) \
               VALUES (?1, ?2, ?3)";
    let mut stmt = conn.prepare_cached(sql)?;
    for d in &snapshot.destroyed {
        stmt.execute(params![d.version_id, d.key_id, d.destroyed_at])?;
    }
    Ok(())
}

/// Users, custom policies, attachments, AccessKeys and login profiles.
fn import_identities(conn: &Connection, snapshot: &Snapshot) -> Result<(), WriteError> {
    for user in &snapshot.users {
        insert_user(conn, user)?;
    }
    for policy in &snapshot.policies {
        insert_policy(conn, policy)?;
    }
    for attachment in &snapshot.attachments {
        attach_policy(conn, attachment)?;
    }
    for key in &snapshot.access_keys {
        insert_access_key(conn, key)?;
    }
    for profile in &snapshot.login_profiles {
        crate::ops::insert_login_profile(conn, profile)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{migrate, open_writer};
    use openkms_core::store::OTHER_TABLES;

    /// Every table of the schema is either carried by a snapshot or left out on purpose: a
    /// new table fails here until `SNAPSHOT_TABLES` or `OTHER_TABLES` names it.
    #[test]
    fn every_table_is_snapshot_state_or_named_as_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_writer(&dir.path().join("openkms.db")).unwrap();
        migrate(&mut conn).unwrap();
        let sql = "SELECT name FROM sqlite_master WHERE type = 'table' \
                   AND name NOT LIKE 'sqlite_%' ORDER BY name";
        let tables = query_all(&conn, sql, [], |r| Ok(r.get::<_, String>(0).unwrap())).unwrap();
        for table in &tables {
            let known = SNAPSHOT_TABLES.contains(&table.as_str())
                || OTHER_TABLES.iter().any(|(t, _)| t == table);
            assert!(
                known,
                "table {table} is neither in SNAPSHOT_TABLES nor OTHER_TABLES"
            );
        }
        for table in SNAPSHOT_TABLES {
            assert!(
                tables.iter().any(|t| t == table),
                "{table} is not in the schema"
            );
        }
    }
}
