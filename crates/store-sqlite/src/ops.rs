//! The write commands and the SQL each one runs.
//!
//! Owns how a record becomes rows: enums as their API names, `Option`s as NULL, booleans as
//! 0/1; and the rules a write checks against the stored state (the revision of a key, the
//! existence of what it updates or deletes, how many tags a key may hold). Each command runs
//! inside whatever transaction or savepoint the caller opened; this module does not begin,
//! commit or batch (see `writer`), and does not read records back (see `reads`). The writes
//! of RAM identities (users, policies, attachments, AccessKey changes) live in [`identities`],
//! those of login profiles in [`login`], those of key import state in [`imports`], those of the Secrets Manager in [`secrets`].

mod identities;
mod imports;
mod login;
mod rewrap;
mod secrets;

use openkms_core::{
    AccessKeyRecord, AliasRecord, KeyRecord, Rewrap, Snapshot, StoreError, Tag, VersionRecord,
};
use rusqlite::{Connection, Statement, ToSql, params};

use crate::error::WriteError;

pub(crate) use self::identities::{IdentityOp, attach_policy, insert_policy, insert_user};
pub(crate) use self::imports::{ImportOp, insert_import};
pub(crate) use self::login::{LoginOp, insert_login_profile};
pub(crate) use self::secrets::{
    SecretOp, insert_secret, insert_secret_tag, insert_secret_version, insert_stages,
};

/// One write, owned so it can cross to the writer thread.
pub(crate) enum WriteOp {
    /// Insert a metadata value unless the name is taken.
    PutMetaIfAbsent {
        /// The metadata name.
        name: String,
        /// The value to store.
        value: Vec<u8>,
    },
    /// Replace a metadata value only if it is `expected` now.
    ReplaceMetaIf {
        /// The metadata name.
        name: String,
        /// The value it must have.
        expected: Vec<u8>,
        /// The value to store.
        value: Vec<u8>,
    },
    /// Insert a metadata value or replace the one under its name (an audit anchor).
    SetMeta {
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
    /// Insert an AccessKey without looking at its owner (the root AccessKey; a user's goes
    /// through [`IdentityOp`]).
    CreateAccessKey(AccessKeyRecord),
    /// Replace a key row over the revision before the new one.
    UpdateKey(Box<KeyRecord>),
    /// Replace a key row as `UpdateKey` does and insert a new version of it.
    AddVersion {
        /// The new key row.
        key: Box<KeyRecord>,
        /// The new version.
        version: VersionRecord,
    },
    /// Point an existing alias at another key.
    UpdateAlias(AliasRecord),
    /// Delete an alias by name.
    DeleteAlias(String),
    /// Insert or replace tags of a key, unless it would then hold too many.
    PutTags {
        /// The key.
        key_id: String,
        /// The tags to set.
        tags: Vec<Tag>,
        /// The most tags the key may hold after the write.
        max_tags: usize,
    },
    /// Delete tags of a key by tag key.
    DeleteTags {
        /// The key.
        key_id: String,
        /// The tag keys to remove.
        tag_keys: Vec<String>,
    },
    /// Delete a key with its versions, aliases and tags, keeping tombstones of the versions.
    DestroyKey(String),
    /// Replace every wrapped blob of a root-key rotation, all or none.
    ReplaceWrapped(Vec<Rewrap>),
    /// Record a SignatureNonce unless an unexpired record of it exists.
    UseNonce {
        /// The AccessKey that signed with the nonce.
        access_key_id: String,
        /// The nonce.
        nonce: String,
        /// Until when the record refuses the nonce (seconds since the epoch).
        expires_at: i64,
        /// The current time: a record expiring before it is replaced.
        now: i64,
    },
    /// Delete the nonce records that expired before this time.
    PurgeNonces(i64),
    /// A write of users, AccessKeys, policies or attachments.
    Identity(IdentityOp),
    /// A write of login profiles.
    Login(LoginOp),
    /// A write of EXTERNAL keys' import state (and their material).
    Import(ImportOp),
    /// A write of secrets, their versions, stages or tags.
    Secret(SecretOp),
    /// Write a whole snapshot into the empty database (boxed: it is every record).
    ImportSnapshot(Box<Snapshot>),
}

impl WriteOp {
    /// Whether the command destroys key material, or blobs wrapped under a retired root key
    /// (the writer scrubs the WAL after it).
    pub(crate) fn destroys(&self) -> bool {
        match self {
            Self::Secret(op) => op.destroys(),
            Self::Import(op) => op.destroys(),
            _ => matches!(self, Self::DestroyKey(_) | Self::ReplaceWrapped(_)),
        }
    }

    /// Runs the command's SQL; the count it answers is 1 or 0 for a command that may find
    /// nothing to do (0 when a put-if-absent found the name taken, a delete found nothing to
    /// delete, or a nonce was already recorded) and the rows deleted for a purge.
    ///
    /// On `Err` the command may have written part of its rows: the caller must roll back to a
    /// savepoint taken before it.
    pub(crate) fn apply(&self, conn: &Connection) -> Result<u64, WriteError> {
        match self {
            Self::PutMetaIfAbsent { name, value } => Ok(put_meta_if_absent(conn, name, value)?),
            Self::ReplaceMetaIf {
                name,
                expected,
                value,
            } => Ok(replace_meta_if(conn, name, expected, value)?),
            Self::SetMeta { name, value } => Ok(set_meta(conn, name, value)?),
            Self::CreateKey { key, version, tags } => {
                check_version_key(key, version)?;
                insert_key(conn, key)?;
                insert_version(conn, version)?;
                insert_tags(conn, &key.key_id, tags)?;
                Ok(1)
            }
            Self::CreateAlias(alias) => Ok(insert_alias(conn, alias).map(|()| 1)?),
            Self::CreateAccessKey(key) => Ok(insert_access_key(conn, key).map(|()| 1)?),
            Self::UpdateKey(key) => update_key(conn, key).map(|()| 1),
            Self::AddVersion { key, version } => {
                check_version_key(key, version)?;
                update_key(conn, key)?;
                insert_version(conn, version)?;
                Ok(1)
            }
            Self::UpdateAlias(alias) => update_alias(conn, alias).map(|()| 1),
            Self::DeleteAlias(name) => Ok(delete_alias(conn, name)?),
            Self::PutTags {
                key_id,
                tags,
                max_tags,
            } => put_tags(conn, key_id, tags, *max_tags).map(|()| 1),
            Self::DeleteTags { key_id, tag_keys } => {
                Ok(delete_tags(conn, key_id, tag_keys).map(|()| 1)?)
            }
            Self::DestroyKey(key_id) => destroy_key(conn, key_id).map(|()| 1),
            Self::UseNonce {
                access_key_id,
                nonce,
                expires_at,
                now,
            } => Ok(use_nonce(conn, access_key_id, nonce, *expires_at, *now)?),
            Self::PurgeNonces(now) => Ok(purge_nonces(conn, *now)?),
            Self::Identity(op) => op.apply(conn),
            Self::Login(op) => op.apply(conn),
            Self::Import(op) => op.apply(conn),
            Self::Secret(op) => op.apply(conn),
            Self::ReplaceWrapped(changes) => rewrap::replace_wrapped(conn, changes),
            Self::ImportSnapshot(snapshot) => crate::snapshot::import(conn, snapshot).map(|()| 1),
        }
    }
}

/// A version must belong to the key it is written with (`ReferenceNotFound` otherwise).
fn check_version_key(key: &KeyRecord, version: &VersionRecord) -> Result<(), WriteError> {
    if version.key_id == key.key_id {
        Ok(())
    } else {
        Err(WriteError::Refused(StoreError::ReferenceNotFound))
    }
}

/// 1 if the value was inserted, 0 if the name was taken.
pub(crate) fn put_meta_if_absent(
    conn: &Connection,
    name: &str,
    value: &[u8],
) -> rusqlite::Result<u64> {
    let sql = "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING";
    let inserted = conn.prepare_cached(sql)?.execute(params![name, value])?;
    Ok(inserted as u64)
}

/// 1 if the value was `expected` and is now `value`, 0 otherwise.
fn replace_meta_if(
    conn: &Connection,
    name: &str,
    expected: &[u8],
    value: &[u8],
) -> rusqlite::Result<u64> {
    let sql = "UPDATE meta SET value = ?3 WHERE name = ?1 AND value = ?2";
    let updated = conn
        .prepare_cached(sql)?
        .execute(params![name, expected, value])?;
    Ok(updated as u64)
}

/// Inserts or replaces a metadata value; 1.
fn set_meta(conn: &Connection, name: &str, value: &[u8]) -> rusqlite::Result<u64> {
    let sql = "INSERT INTO meta (name, value) VALUES (?1, ?2) \
               ON CONFLICT (name) DO UPDATE SET value = excluded.value";
    conn.prepare_cached(sql)?.execute(params![name, value])?;
    Ok(1)
}

/// Binds every column of `key` as `?1`..`?17`, in the order `insert_key` names them.
fn bind_key(stmt: &mut Statement<'_>, key: &KeyRecord) -> rusqlite::Result<()> {
    let names = [
        key.spec.as_str(),
        key.usage.as_str(),
        key.origin.as_str(),
        key.protection_level.as_str(),
        key.state.as_str(),
    ];
    let values: [&dyn ToSql; 17] = [
        &key.key_id,
        &key.description,
        &names[0],
        &names[1],
        &names[2],
        &names[3],
        &names[4],
        &key.creator,
        &key.created_at,
        &key.delete_at,
        &key.primary_version,
        &key.last_rotation_at,
        &key.rotation_interval,
        &key.next_rotation_at,
        &key.deletion_protection,
        &key.policy,
        &key.revision,
    ];
    for (index, value) in values.into_iter().enumerate() {
        stmt.raw_bind_parameter(index + 1, value)?;
    }
    Ok(())
}

pub(crate) fn insert_key(conn: &Connection, key: &KeyRecord) -> rusqlite::Result<()> {
    let sql = "INSERT INTO keys (key_id, description, spec, usage, origin, protection_level, \
               state, creator, created_at, delete_at, primary_version, last_rotation_at, \
               rotation_interval, next_rotation_at, deletion_protection, policy, revision) \
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
               ?17)";
    let mut stmt = conn.prepare_cached(sql)?;
    bind_key(&mut stmt, key)?;
    stmt.raw_execute()?;
    Ok(())
}

/// Replaces the key row if its stored revision is `key.revision - 1`; otherwise `Conflict`
/// (the key exists at another revision) or `NotFound` (it does not exist).
pub(crate) fn update_key(conn: &Connection, key: &KeyRecord) -> Result<(), WriteError> {
    let sql = "UPDATE keys SET description = ?2, spec = ?3, usage = ?4, origin = ?5, \
               protection_level = ?6, state = ?7, creator = ?8, created_at = ?9, \
               delete_at = ?10, primary_version = ?11, last_rotation_at = ?12, \
               rotation_interval = ?13, next_rotation_at = ?14, deletion_protection = ?15, \
               policy = ?16, revision = ?17 \
               WHERE key_id = ?1 AND revision = ?18";
    let updated = match key.revision.checked_sub(1) {
        Some(expected) => {
            let mut stmt = conn.prepare_cached(sql)?;
            bind_key(&mut stmt, key)?;
            stmt.raw_bind_parameter(18, expected)?;
            stmt.raw_execute()?
        }
        None => 0,
    };
    if updated == 1 {
        Ok(())
    } else if key_exists(conn, &key.key_id)? {
        Err(WriteError::Refused(StoreError::Conflict))
    } else {
        Err(WriteError::Refused(StoreError::NotFound))
    }
}

fn key_exists(conn: &Connection, key_id: &str) -> rusqlite::Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM keys WHERE key_id = ?1)";
    conn.prepare_cached(sql)?
        .query_row([key_id], |row| row.get(0))
}

pub(crate) fn insert_version(conn: &Connection, version: &VersionRecord) -> rusqlite::Result<()> {
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
pub(crate) fn insert_tags(conn: &Connection, key_id: &str, tags: &[Tag]) -> rusqlite::Result<()> {
    let sql = "INSERT INTO key_tags (key_id, tag_key, tag_value) VALUES (?1, ?2, ?3)";
    let mut stmt = conn.prepare_cached(sql)?;
    for tag in tags {
        stmt.execute(params![key_id, tag.key, tag.value])?;
    }
    Ok(())
}

/// Inserts or replaces the tags of an existing key (`ReferenceNotFound` if there is none,
/// even when `tags` is empty). A tag key given twice keeps its last value.
///
/// Counts the key's tags after the upsert and answers `LimitExceeded` if there are more than
/// `max_tags`, which the caller's savepoint rolls back. The writer runs one command at a
/// time, so nothing else writes between the upsert and the count.
fn put_tags(
    conn: &Connection,
    key_id: &str,
    tags: &[Tag],
    max_tags: usize,
) -> Result<(), WriteError> {
    if !key_exists(conn, key_id)? {
        return Err(WriteError::Refused(StoreError::ReferenceNotFound));
    }
    let sql = "INSERT INTO key_tags (key_id, tag_key, tag_value) VALUES (?1, ?2, ?3) \
               ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value";
    let mut stmt = conn.prepare_cached(sql)?;
    for tag in tags {
        stmt.execute(params![key_id, tag.key, tag.value])?;
    }
    if more_tags_than(conn, key_id, max_tags)? {
        return Err(WriteError::Refused(StoreError::LimitExceeded));
    }
    Ok(())
}

/// Whether the key holds more than `max` tags.
fn more_tags_than(conn: &Connection, key_id: &str, max: usize) -> rusqlite::Result<bool> {
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    let sql = "SELECT count(*) > ?2 FROM key_tags WHERE key_id = ?1";
    conn.prepare_cached(sql)?
        .query_row(params![key_id, max], |row| row.get(0))
}

fn delete_tags(conn: &Connection, key_id: &str, tag_keys: &[String]) -> rusqlite::Result<()> {
    let sql = "DELETE FROM key_tags WHERE key_id = ?1 AND tag_key = ?2";
    let mut stmt = conn.prepare_cached(sql)?;
    for tag_key in tag_keys {
        stmt.execute(params![key_id, tag_key])?;
    }
    Ok(())
}

pub(crate) fn insert_alias(conn: &Connection, alias: &AliasRecord) -> rusqlite::Result<()> {
    let sql = "INSERT INTO aliases (name, key_id, created_at) VALUES (?1, ?2, ?3)";
    conn.prepare_cached(sql)?
        .execute(params![alias.name, alias.key_id, alias.created_at])?;
    Ok(())
}

/// Points an existing alias at `alias.key_id`, keeping its creation time: `NotFound` if no
/// alias has the name, `ReferenceNotFound` (a foreign-key violation) if the key is missing.
fn update_alias(conn: &Connection, alias: &AliasRecord) -> Result<(), WriteError> {
    let sql = "UPDATE aliases SET key_id = ?2 WHERE name = ?1";
    let updated = conn
        .prepare_cached(sql)?
        .execute(params![alias.name, alias.key_id])?;
    if updated == 1 {
        Ok(())
    } else {
        Err(WriteError::Refused(StoreError::NotFound))
    }
}

/// 1 if the alias existed, 0 if not.
fn delete_alias(conn: &Connection, name: &str) -> rusqlite::Result<u64> {
    let deleted = conn
        .prepare_cached("DELETE FROM aliases WHERE name = ?1")?
        .execute([name])?;
    Ok(deleted as u64)
}

/// Tombstones the key's versions, then deletes its aliases, tags, versions (the material)
/// and finally its row: `NotFound` if there was no row, which the savepoint rolls back.
fn destroy_key(conn: &Connection, key_id: &str) -> Result<(), WriteError> {
    let statements = [
        "INSERT INTO destroyed_versions (version_id, key_id, destroyed_at) \
         SELECT version_id, key_id, unixepoch() FROM key_versions WHERE key_id = ?1 \
         ON CONFLICT (version_id) DO NOTHING",
        "DELETE FROM aliases WHERE key_id = ?1",
        "DELETE FROM key_tags WHERE key_id = ?1",
        "DELETE FROM key_versions WHERE key_id = ?1",
    ];
    for sql in statements {
        conn.prepare_cached(sql)?.execute([key_id])?;
    }
    let deleted = conn
        .prepare_cached("DELETE FROM keys WHERE key_id = ?1")?
        .execute([key_id])?;
    if deleted == 1 {
        Ok(())
    } else {
        Err(WriteError::Refused(StoreError::NotFound))
    }
}

pub(crate) fn insert_access_key(conn: &Connection, key: &AccessKeyRecord) -> rusqlite::Result<()> {
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

/// Records the nonce in one statement: inserts it, or replaces a record that expired before
/// `now`. 1 if it was recorded, 0 if an unexpired record exists (a replay).
fn use_nonce(
    conn: &Connection,
    access_key_id: &str,
    nonce: &str,
    expires_at: i64,
    now: i64,
) -> rusqlite::Result<u64> {
    let sql = "INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (?1, ?2, ?3) \
               ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at \
               WHERE nonces.expires_at < ?4";
    let changed =
        conn.prepare_cached(sql)?
            .execute(params![access_key_id, nonce, expires_at, now])?;
    Ok(changed as u64)
}

/// Deletes the nonce records that expired before `now`; how many.
fn purge_nonces(conn: &Connection, now: i64) -> rusqlite::Result<u64> {
    let deleted = conn
        .prepare_cached("DELETE FROM nonces WHERE expires_at < ?1")?
        .execute([now])?;
    Ok(deleted as u64)
}
