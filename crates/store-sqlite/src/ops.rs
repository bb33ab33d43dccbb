//! The write commands and the SQL each one runs.
//!
//! Owns how a record becomes rows: enums as their API names, `Option`s as NULL, booleans as
//! 0/1. Each command runs inside whatever transaction or savepoint the caller opened; this
//! module does not begin, commit or batch (see `writer`), and does not read records back (see
//! `reads`).

use openkms_core::{AccessKeyRecord, AliasRecord, KeyRecord, Tag, VersionRecord};
use rusqlite::{Connection, params};

/// One write, owned so it can cross to the writer thread.
pub(crate) enum WriteOp {
    /// Insert a metadata value unless the name is taken.
    PutMetaIfAbsent {
        /// The metadata name.
        name: String,
        /// The value to store.
        value: Vec<u8>,
    },
    /// Insert a key, its first version and its tags.
    CreateKey {
        /// The key row (boxed: it is most of the command's size).
        key: Box<KeyRecord>,
        /// The first version.
        version: VersionRecord,
        /// The tags.
        tags: Vec<Tag>,
    },
    /// Insert an alias.
    CreateAlias(AliasRecord),
    /// Insert an AccessKey.
    CreateAccessKey(AccessKeyRecord),
}

impl WriteOp {
    /// Runs the command's SQL; `Ok(false)` only when a put-if-absent found the name taken.
    ///
    /// On `Err` the command may have written part of its rows: the caller must roll back to a
    /// savepoint taken before it.
    pub(crate) fn apply(&self, conn: &Connection) -> rusqlite::Result<bool> {
        match self {
            Self::PutMetaIfAbsent { name, value } => put_meta_if_absent(conn, name, value),
            Self::CreateKey { key, version, tags } => {
                insert_key(conn, key)?;
                insert_version(conn, version)?;
                insert_tags(conn, &key.key_id, tags)?;
                Ok(true)
            }
            Self::CreateAlias(alias) => insert_alias(conn, alias).map(|()| true),
            Self::CreateAccessKey(key) => insert_access_key(conn, key).map(|()| true),
        }
    }
}

fn put_meta_if_absent(conn: &Connection, name: &str, value: &[u8]) -> rusqlite::Result<bool> {
    let sql = "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING";
    let inserted = conn.prepare_cached(sql)?.execute(params![name, value])?;
    Ok(inserted == 1)
}

fn insert_key(conn: &Connection, key: &KeyRecord) -> rusqlite::Result<()> {
    let sql = "INSERT INTO keys (key_id, description, spec, usage, origin, protection_level, \
               state, creator, created_at, delete_at, primary_version, last_rotation_at, \
               rotation_interval, next_rotation_at, deletion_protection, policy) \
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
    conn.prepare_cached(sql)?.execute(params![
        key.key_id,
        key.description,
        key.spec.as_str(),
        key.usage.as_str(),
        key.origin.as_str(),
        key.protection_level.as_str(),
        key.state.as_str(),
        key.creator,
        key.created_at,
        key.delete_at,
        key.primary_version,
        key.last_rotation_at,
        key.rotation_interval,
        key.next_rotation_at,
        key.deletion_protection,
        key.policy,
    ])?;
    Ok(())
}

fn insert_version(conn: &Connection, version: &VersionRecord) -> rusqlite::Result<()> {
    let sql = "INSERT INTO key_versions (version_id, key_id, created_at, wrapped_material) \
               VALUES (?1, ?2, ?3, ?4)";
    conn.prepare_cached(sql)?.execute(params![
        version.version_id,
        version.key_id,
        version.created_at,
        version.wrapped_material,
    ])?;
    Ok(())
}

/// Inserts the tags; a tag key given twice is a primary-key violation.
fn insert_tags(conn: &Connection, key_id: &str, tags: &[Tag]) -> rusqlite::Result<()> {
    let sql = "INSERT INTO key_tags (key_id, tag_key, tag_value) VALUES (?1, ?2, ?3)";
    let mut stmt = conn.prepare_cached(sql)?;
    for tag in tags {
        stmt.execute(params![key_id, tag.key, tag.value])?;
    }
    Ok(())
}

fn insert_alias(conn: &Connection, alias: &AliasRecord) -> rusqlite::Result<()> {
    let sql = "INSERT INTO aliases (name, key_id, created_at) VALUES (?1, ?2, ?3)";
    conn.prepare_cached(sql)?
        .execute(params![alias.name, alias.key_id, alias.created_at])?;
    Ok(())
}

fn insert_access_key(conn: &Connection, key: &AccessKeyRecord) -> rusqlite::Result<()> {
    let sql = "INSERT INTO access_keys (access_key_id, user, wrapped_secret, active, created_at) \
               VALUES (?1, ?2, ?3, ?4, ?5)";
    conn.prepare_cached(sql)?.execute(params![
        key.access_key_id,
        key.user,
        key.wrapped_secret,
        i64::from(key.active),
        key.created_at,
    ])?;
    Ok(())
}
