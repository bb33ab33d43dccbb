//! The write commands of the Secrets Manager: a secret with its first version, a whole change
//! of a secret (record, added and dropped versions, every stage label) under its revision,
//! its destruction, its tags.
//!
//! Owns the rows these records become (a data type as its API name, `Option`s as NULL) and the
//! rules the writes check against the stored state: the revision of the secret, that a stage
//! names a version of the same secret (a foreign key), the tag limit. Each command runs in the
//! writer's savepoint, so a change is all or nothing and no other write comes between its
//! check and its rows. Like the rest of `ops`, it neither begins nor commits.

use openkms_core::{SecretChange, SecretRecord, SecretStage, StoreError, StoredSecretVersion, Tag};
use rusqlite::{Connection, ToSql, params};

use crate::error::WriteError;

/// One secret write, owned so it can cross to the writer thread.
pub(crate) enum SecretOp {
    /// Insert a secret, its first version, its stages and its tags.
    Create {
        /// The record (boxed: most of the command's size).
        secret: Box<SecretRecord>,
        /// The first version with its ciphertext.
        first: StoredSecretVersion,
        /// Its stage labels.
        stages: Vec<SecretStage>,
        /// Its tags.
        tags: Vec<Tag>,
    },
    /// Apply a change over the revision before it.
    Update(Box<SecretChange>),
    /// Delete a secret and every row of it.
    Destroy(String),
    /// Upsert tags unless the secret would hold too many.
    PutTags {
        /// The secret.
        name: String,
        /// The tags.
        tags: Vec<Tag>,
        /// The most tags after the write.
        max_tags: usize,
    },
    /// Delete tags by tag key.
    DeleteTags {
        /// The secret.
        name: String,
        /// The tag keys.
        tag_keys: Vec<String>,
    },
}

impl SecretOp {
    /// Runs the command's SQL; 1 on success. On `Err` the caller rolls back its savepoint.
    pub(crate) fn apply(&self, conn: &Connection) -> Result<u64, WriteError> {
        match self {
            Self::Create {
                secret,
                first,
                stages,
                tags,
            } => create(conn, secret, first, stages, tags).map(|()| 1),
            Self::Update(change) => update(conn, change).map(|()| 1),
            Self::Destroy(name) => destroy(conn, name).map(|()| 1),
            Self::PutTags {
                name,
                tags,
                max_tags,
            } => put_tags(conn, name, tags, *max_tags).map(|()| 1),
            Self::DeleteTags { name, tag_keys } => {
                Ok(delete_tags(conn, name, tag_keys).map(|()| 1)?)
            }
        }
    }

    /// Whether the command deletes secret values (the writer then scrubs the WAL).
    pub(crate) fn destroys(&self) -> bool {
        match self {
            Self::Destroy(_) => true,
            Self::Update(change) => !change.dropped.is_empty(),
            _ => false,
        }
    }
}

fn refused(error: StoreError) -> WriteError {
    WriteError::Refused(error)
}

fn create(
    conn: &Connection,
    secret: &SecretRecord,
    first: &StoredSecretVersion,
    stages: &[SecretStage],
    tags: &[Tag],
) -> Result<(), WriteError> {
    if first.version.secret_name != secret.name {
        return Err(refused(StoreError::ReferenceNotFound));
    }
    insert_secret(conn, secret)?;
    insert_secret_version(conn, first)?;
    insert_stages(conn, stages)?;
    for tag in tags {
        insert_secret_tag(conn, &secret.name, tag)?;
    }
    Ok(())
}

/// The record's columns as `?1`..`?9`, in the order `insert_secret` names them.
fn secret_values(s: &SecretRecord) -> [&dyn ToSql; 9] {
    [
        &s.name,
        &s.secret_type,
        &s.description,
        &s.encryption_key_id,
        &s.created_at,
        &s.updated_at,
        &s.planned_delete_at,
        &s.policy,
        &s.revision,
    ]
}

pub(crate) fn insert_secret(conn: &Connection, s: &SecretRecord) -> rusqlite::Result<()> {
    let sql = "INSERT INTO secrets (name, secret_type, description, encryption_key_id, \
               created_at, updated_at, planned_delete_at, policy, revision) \
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
    conn.prepare_cached(sql)?.execute(&secret_values(s)[..])?;
    Ok(())
}

pub(crate) fn insert_secret_version(
    conn: &Connection,
    v: &StoredSecretVersion,
) -> rusqlite::Result<()> {
    let sql = "INSERT INTO secret_versions (secret_name, version_id, created_at, data_type, \
               ciphertext) VALUES (?1, ?2, ?3, ?4, ?5)";
    let version = &v.version;
    conn.prepare_cached(sql)?.execute(params![
        version.secret_name,
        version.version_id,
        version.created_at,
        version.data_type.as_str(),
        v.ciphertext
    ])?;
    Ok(())
}

pub(crate) fn insert_stages(conn: &Connection, stages: &[SecretStage]) -> rusqlite::Result<()> {
    let sql = "INSERT INTO secret_stages (secret_name, stage, version_id) VALUES (?1, ?2, ?3)";
    let mut stmt = conn.prepare_cached(sql)?;
    for s in stages {
        stmt.execute(params![s.secret_name, s.stage, s.version_id])?;
    }
    Ok(())
}

pub(crate) fn insert_secret_tag(conn: &Connection, name: &str, tag: &Tag) -> rusqlite::Result<()> {
    let sql = "INSERT INTO secret_tags (secret_name, tag_key, tag_value) VALUES (?1, ?2, ?3)";
    conn.prepare_cached(sql)?
        .execute(params![name, tag.key, tag.value])?;
    Ok(())
}

fn update(conn: &Connection, change: &SecretChange) -> Result<(), WriteError> {
    let name = &change.secret.name;
    update_record(conn, &change.secret)?;
    conn.prepare_cached("DELETE FROM secret_stages WHERE secret_name = ?1")?
        .execute([name])?;
    let drop = "DELETE FROM secret_versions WHERE secret_name = ?1 AND version_id = ?2";
    let mut stmt = conn.prepare_cached(drop)?;
    for id in &change.dropped {
        stmt.execute(params![name, id])?;
    }
    if let Some(added) = &change.added {
        if &added.version.secret_name != name {
            return Err(refused(StoreError::ReferenceNotFound));
        }
        insert_secret_version(conn, added)?;
    }
    if change.stages.iter().any(|s| &s.secret_name != name) {
        return Err(refused(StoreError::ReferenceNotFound));
    }
    Ok(insert_stages(conn, &change.stages)?)
}

/// Replaces the record over the revision before its own: `Conflict` or `NotFound` otherwise.
fn update_record(conn: &Connection, s: &SecretRecord) -> Result<(), WriteError> {
    let sql = "UPDATE secrets SET secret_type = ?2, description = ?3, encryption_key_id = ?4, \
               created_at = ?5, updated_at = ?6, planned_delete_at = ?7, policy = ?8, \
               revision = ?9 WHERE name = ?1 AND revision = ?10";
    let updated = match s.revision.checked_sub(1) {
        Some(expected) => {
            let mut values = secret_values(s).to_vec();
            values.push(&expected);
            conn.prepare_cached(sql)?.execute(&values[..])?
        }
        None => 0,
    };
    match (updated, secret_exists(conn, &s.name)?) {
        (1, _) => Ok(()),
        (_, true) => Err(refused(StoreError::Conflict)),
        (_, false) => Err(refused(StoreError::NotFound)),
    }
}

fn secret_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM secrets WHERE name = ?1)";
    conn.prepare_cached(sql)?
        .query_row([name], |row| row.get(0))
}

fn destroy(conn: &Connection, name: &str) -> Result<(), WriteError> {
    for table in ["secret_stages", "secret_tags", "secret_versions"] {
        let sql = format!("DELETE FROM {table} WHERE secret_name = ?1");
        conn.prepare_cached(&sql)?.execute([name])?;
    }
    let deleted = conn
        .prepare_cached("DELETE FROM secrets WHERE name = ?1")?
        .execute([name])?;
    match deleted {
        1 => Ok(()),
        _ => Err(refused(StoreError::NotFound)),
    }
}

fn put_tags(conn: &Connection, name: &str, tags: &[Tag], max: usize) -> Result<(), WriteError> {
    if !secret_exists(conn, name)? {
        return Err(refused(StoreError::ReferenceNotFound));
    }
    let sql = "INSERT INTO secret_tags (secret_name, tag_key, tag_value) VALUES (?1, ?2, ?3) \
               ON CONFLICT (secret_name, tag_key) DO UPDATE SET tag_value = excluded.tag_value";
    let mut stmt = conn.prepare_cached(sql)?;
    for tag in tags {
        stmt.execute(params![name, tag.key, tag.value])?;
    }
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    let sql = "SELECT count(*) > ?2 FROM secret_tags WHERE secret_name = ?1";
    let over: bool = conn
        .prepare_cached(sql)?
        .query_row(params![name, max], |row| row.get(0))?;
    match over {
        true => Err(refused(StoreError::LimitExceeded)),
        false => Ok(()),
    }
}

fn delete_tags(conn: &Connection, name: &str, tag_keys: &[String]) -> rusqlite::Result<()> {
    let sql = "DELETE FROM secret_tags WHERE secret_name = ?1 AND tag_key = ?2";
    let mut stmt = conn.prepare_cached(sql)?;
    for key in tag_keys {
        stmt.execute(params![name, key])?;
    }
    Ok(())
}
