//! The write commands of EXTERNAL keys' import state (BYOK).
//!
//! Saving material replaces the key row (revision rule), its primary version's wrapped
//! material and the import row in the caller's transaction; reserving an unwrap attempt,
//! settling a failure and revoking tokens each run in the writer's one transaction at a time,
//! so concurrent attempts are all counted. An import row
//! of a missing key is the foreign-key violation of its insert (`ReferenceNotFound`). Like the
//! rest of `ops`, it neither begins nor commits.

use openkms_core::{ImportRecord, KeyRecord, StoreError};
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::error::WriteError;

/// One import-state write, owned so it can cross to the writer thread.
pub(crate) enum ImportOp {
    /// Replace the key row, its primary version's material and the import row, unless the
    /// token was revoked or the material differs from the first.
    SaveMaterial {
        /// The new key row (boxed: it is most of the command's size).
        key: Box<KeyRecord>,
        /// The wrapped material.
        wrapped: Vec<u8>,
        /// The new import state.
        import: ImportRecord,
        /// The import token's issue time, milliseconds.
        issued_ms: i64,
    },
    /// Replace the key row, empty its primary version's material, revoke its tokens.
    DeleteMaterial {
        /// The new key row.
        key: Box<KeyRecord>,
        /// The revocation time, milliseconds.
        now_ms: i64,
        /// Whether the key was Disabled before the deletion.
        disabled: bool,
    },
    /// Reserve an unwrap attempt (counted as a failure until a save takes it back).
    Reserve {
        /// The key.
        key_id: String,
        /// The token's issue time, milliseconds.
        issued_ms: i64,
        /// Attempts counted that refuse and revoke.
        limit: i64,
        /// The revocation time, milliseconds.
        now_ms: i64,
    },
    /// End a failed unwrap; at `limit` failures revoke the tokens.
    SettleFailure {
        /// The key.
        key_id: String,
        /// Failures that revoke.
        limit: i64,
        /// The revocation time, milliseconds.
        now_ms: i64,
    },
    /// Revoke the key's tokens issued before `now_ms`.
    Revoke {
        /// The key.
        key_id: String,
        /// The revocation time, milliseconds.
        now_ms: i64,
    },
}

impl ImportOp {
    /// Whether the command deletes key material (the writer scrubs the WAL after it).
    pub(crate) fn destroys(&self) -> bool {
        matches!(self, Self::DeleteMaterial { .. })
    }

    /// Runs the command's SQL; 1, or for a reservation whether it reserved (1) or not (0),
    /// for a settled failure whether it revoked (1) or not (0).
    pub(crate) fn apply(&self, conn: &Connection) -> Result<u64, WriteError> {
        match self {
            Self::SaveMaterial {
                key,
                wrapped,
                import,
                issued_ms,
            } => save_material(conn, key, wrapped, import, *issued_ms).map(|()| 1),
            Self::DeleteMaterial {
                key,
                now_ms,
                disabled,
            } => {
                write_material(conn, key, &[])?;
                revoke(conn, &key.key_id, *now_ms)?;
                let sql = "UPDATE key_imports SET disabled_before_delete = ?2 WHERE key_id = ?1";
                conn.prepare_cached(sql)?
                    .execute(params![key.key_id, disabled])?;
                Ok(1)
            }
            Self::Reserve {
                key_id,
                issued_ms,
                limit,
                now_ms,
            } => Ok(reserve(conn, key_id, *issued_ms, *limit, *now_ms)?),
            Self::SettleFailure {
                key_id,
                limit,
                now_ms,
            } => Ok(settle_failure(conn, key_id, *limit, *now_ms)?),
            Self::Revoke { key_id, now_ms } => Ok(revoke(conn, key_id, *now_ms).map(|()| 1)?),
        }
    }
}

fn save_material(
    conn: &Connection,
    key: &KeyRecord,
    wrapped: &[u8],
    import: &ImportRecord,
    issued_ms: i64,
) -> Result<(), WriteError> {
    if import.key_id != key.key_id {
        return Err(WriteError::Refused(StoreError::ReferenceNotFound));
    }
    write_material(conn, key, wrapped)?;
    check_import(conn, import, issued_ms)?;
    let sql = "INSERT INTO key_imports (key_id, fingerprint, material_expire_at, \
               tokens_not_before, failed_unwraps) VALUES (?1, ?2, ?3, ?4, ?5) \
               ON CONFLICT (key_id) DO UPDATE SET \
               fingerprint = COALESCE(key_imports.fingerprint, excluded.fingerprint), \
               material_expire_at = excluded.material_expire_at, \
               failed_unwraps = MAX(key_imports.failed_unwraps - 1, 0)";
    conn.prepare_cached(sql)?.execute(params![
        import.key_id,
        import.fingerprint,
        import.material_expire_at,
        import.tokens_not_before,
        import.failed_unwraps,
    ])?;
    Ok(())
}

/// Refuses an import whose token was revoked (`TokenRevoked`) or whose material differs from
/// the stored first one (`MaterialMismatch`). The writer runs one command at a time, so
/// nothing changes the row between this read and the write after it.
fn check_import(
    conn: &Connection,
    import: &ImportRecord,
    issued_ms: i64,
) -> Result<(), WriteError> {
    let sql = "SELECT tokens_not_before, fingerprint FROM key_imports WHERE key_id = ?1";
    let stored: Option<(i64, Option<Vec<u8>>)> = conn
        .prepare_cached(sql)?
        .query_row(params![import.key_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((not_before, fingerprint)) = stored else {
        return Ok(());
    };
    if not_before > issued_ms {
        return Err(WriteError::Refused(StoreError::TokenRevoked));
    }
    match fingerprint {
        Some(first) if Some(&first) != import.fingerprint.as_ref() => {
            Err(WriteError::Refused(StoreError::MaterialMismatch))
        }
        _ => Ok(()),
    }
}

/// Replaces the key row (revision rule) and its primary version's material.
fn write_material(conn: &Connection, key: &KeyRecord, wrapped: &[u8]) -> Result<(), WriteError> {
    super::update_key(conn, key)?;
    let sql = "UPDATE key_versions SET wrapped_material = ?3 WHERE version_id = ?1 AND key_id = ?2";
    let changed =
        conn.prepare_cached(sql)?
            .execute(params![key.primary_version, key.key_id, wrapped])?;
    if changed != 1 {
        return Err(WriteError::Refused(StoreError::ReferenceNotFound));
    }
    Ok(())
}

/// Inserts an import row (a snapshot's).
pub(crate) fn insert_import(conn: &Connection, i: &ImportRecord) -> rusqlite::Result<()> {
    let sql = "INSERT INTO key_imports (key_id, fingerprint, material_expire_at, \
               tokens_not_before, failed_unwraps, disabled_before_delete) \
               VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    conn.prepare_cached(sql)?.execute(params![
        i.key_id,
        i.fingerprint,
        i.material_expire_at,
        i.tokens_not_before,
        i.failed_unwraps,
        i.disabled_before_delete,
    ])?;
    Ok(())
}

fn reserve(
    conn: &Connection,
    key_id: &str,
    issued_ms: i64,
    limit: i64,
    now_ms: i64,
) -> rusqlite::Result<u64> {
    let sql = "INSERT INTO key_imports (key_id, fingerprint, material_expire_at, \
               tokens_not_before, failed_unwraps) VALUES (?1, NULL, NULL, 0, 0) \
               ON CONFLICT (key_id) DO NOTHING";
    conn.prepare_cached(sql)?.execute(params![key_id])?;
    let sql = "SELECT tokens_not_before, failed_unwraps FROM key_imports WHERE key_id = ?1";
    let (not_before, failures): (i64, i64) = conn
        .prepare_cached(sql)?
        .query_row(params![key_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    if not_before > issued_ms {
        return Ok(0);
    }
    if failures >= limit {
        revoke(conn, key_id, now_ms)?;
        return Ok(0);
    }
    let sql = "UPDATE key_imports SET failed_unwraps = failed_unwraps + 1 WHERE key_id = ?1";
    conn.prepare_cached(sql)?.execute(params![key_id])?;
    Ok(1)
}

fn settle_failure(
    conn: &Connection,
    key_id: &str,
    limit: i64,
    now_ms: i64,
) -> rusqlite::Result<u64> {
    let sql = "UPDATE key_imports SET tokens_not_before = ?3, failed_unwraps = 0 \
               WHERE key_id = ?1 AND failed_unwraps >= ?2";
    let changed = conn
        .prepare_cached(sql)?
        .execute(params![key_id, limit, now_ms])?;
    Ok(u64::from(changed == 1))
}

fn revoke(conn: &Connection, key_id: &str, now_ms: i64) -> rusqlite::Result<()> {
    let sql = "INSERT INTO key_imports (key_id, fingerprint, material_expire_at, \
               tokens_not_before, failed_unwraps) VALUES (?1, NULL, NULL, ?2, 0) \
               ON CONFLICT (key_id) DO UPDATE SET tokens_not_before = ?2, failed_unwraps = 0";
    conn.prepare_cached(sql)?.execute(params![key_id, now_ms])?;
    Ok(())
}
