//! The writes of EXTERNAL keys' import state (BYOK).
//!
//! Saving material replaces the key row (revision rule), its primary version's wrapped
//! material and the import row in one transaction; reserving an unwrap attempt locks the
//! key's import row in a transaction, and settling a failure and revoking tokens are single
//! statements, so concurrent attempts are all counted. An import row of a
//! missing key is the foreign-key violation of its insert (`ReferenceNotFound`); the row goes
//! with its key (`ON DELETE CASCADE`).

use deadpool_postgres::GenericClient;
use openkms_core::{ImportRecord, KeyRecord, StoreError};

use super::{Failure, Param, execute_one};

/// One import-state write, borrowing the caller's records.
pub(crate) enum ImportWrite<'a> {
    /// Replace the key row, its primary version's material and the import row, unless the
    /// token was revoked or the material differs from the first.
    SaveMaterial {
        /// The new key row.
        key: &'a KeyRecord,
        /// The wrapped material.
        wrapped: &'a [u8],
        /// The new import state.
        import: &'a ImportRecord,
        /// The import token's issue time, milliseconds.
        issued_ms: i64,
    },
    /// Replace the key row, empty its primary version's material, revoke its tokens.
    DeleteMaterial {
        /// The new key row.
        key: &'a KeyRecord,
        /// The revocation time, milliseconds.
        now_ms: i64,
        /// Whether the key was Disabled before the deletion.
        disabled: bool,
    },
    /// Reserve an unwrap attempt (counted as a failure until a save takes it back).
    Reserve {
        /// The key.
        key_id: &'a str,
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
        key_id: &'a str,
        /// Failures that revoke.
        limit: i64,
        /// The revocation time, milliseconds.
        now_ms: i64,
    },
    /// Revoke the key's tokens issued before `now_ms`.
    Revoke {
        /// The key.
        key_id: &'a str,
        /// The revocation time, milliseconds.
        now_ms: i64,
    },
}

impl ImportWrite<'_> {
    /// Whether the write runs several statements.
    pub(super) fn needs_transaction(&self) -> bool {
        matches!(
            self,
            Self::SaveMaterial { .. } | Self::DeleteMaterial { .. } | Self::Reserve { .. }
        )
    }

    /// Refuses an import row of another key.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        match self {
            Self::SaveMaterial { key, import, .. } if import.key_id != key.key_id => {
                Err(StoreError::ReferenceNotFound)
            }
            _ => Ok(()),
        }
    }

    /// Runs the statements: true when written (for a failure count, when it revoked).
    pub(super) async fn apply(&self, client: &impl GenericClient) -> Result<bool, Failure> {
        match *self {
            Self::SaveMaterial {
                key,
                wrapped,
                import,
                issued_ms,
            } => save_material(client, key, wrapped, import, issued_ms).await,
            Self::DeleteMaterial {
                key,
                now_ms,
                disabled,
            } => {
                write_material(client, key, &[]).await?;
                revoke(client, &key.key_id, now_ms).await?;
                let sql = "UPDATE key_imports SET disabled_before_delete = $2 WHERE key_id = $1";
                execute_one(client, sql, &[&key.key_id, &disabled]).await
            }
            Self::Reserve {
                key_id,
                issued_ms,
                limit,
                now_ms,
            } => reserve(client, key_id, issued_ms, limit, now_ms).await,
            Self::SettleFailure {
                key_id,
                limit,
                now_ms,
            } => {
                let sql = "UPDATE key_imports SET tokens_not_before = $3, failed_unwraps = 0 \
                           WHERE key_id = $1 AND failed_unwraps >= $2";
                execute_one(client, sql, &[&key_id, &limit, &now_ms]).await
            }
            Self::Revoke { key_id, now_ms } => revoke(client, key_id, now_ms).await,
        }
    }
}

async fn save_material(
    client: &impl GenericClient,
    key: &KeyRecord,
    wrapped: &[u8],
    import: &ImportRecord,
    issued_ms: i64,
) -> Result<bool, Failure> {
    write_material(client, key, wrapped).await?;
    let sql = "INSERT INTO key_imports (key_id, fingerprint, material_expire_at, \
               tokens_not_before, failed_unwraps) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (key_id) DO UPDATE SET \
               fingerprint = COALESCE(key_imports.fingerprint, excluded.fingerprint), \
               material_expire_at = excluded.material_expire_at, \
               failed_unwraps = GREATEST(key_imports.failed_unwraps - 1, 0) \
               WHERE key_imports.tokens_not_before <= $6::BIGINT \
               AND (key_imports.fingerprint IS NULL \
               OR key_imports.fingerprint = excluded.fingerprint)";
    let params: [Param<'_>; 6] = [
        &import.key_id,
        &import.fingerprint,
        &import.material_expire_at,
        &import.tokens_not_before,
        &import.failed_unwraps,
        &issued_ms,
    ];
    if execute_one(client, sql, &params).await? {
        return Ok(true);
    }
    Err(Failure::Refused(
        refusal(client, &import.key_id, issued_ms).await?,
    ))
}

/// Why the conditional upsert of [`save_material`] wrote nothing: the token was revoked, or
/// else the material differs from the first. (The transaction holds the row's lock since the
/// upsert, so this reads what it saw.)
async fn refusal(
    client: &impl GenericClient,
    key_id: &str,
    issued_ms: i64,
) -> Result<StoreError, Failure> {
    let sql = "SELECT tokens_not_before FROM key_imports WHERE key_id = $1";
    let statement = client.prepare_cached(sql).await?;
    let row = client.query_one(&statement, &[&key_id]).await?;
    let not_before: i64 = row.try_get(0)?;
    Ok(match not_before > issued_ms {
        true => StoreError::TokenRevoked,
        false => StoreError::MaterialMismatch,
    })
}

/// Replaces the key row (revision rule) and its primary version's material.
async fn write_material(
    client: &impl GenericClient,
    key: &KeyRecord,
    wrapped: &[u8],
) -> Result<(), Failure> {
    super::update_key(client, key).await?;
    let sql = "UPDATE key_versions SET wrapped_material = $3 WHERE version_id = $1 AND key_id = $2";
    let params: [Param<'_>; 3] = [&key.primary_version, &key.key_id, &wrapped];
    if !execute_one(client, sql, &params).await? {
        return Err(Failure::Refused(StoreError::ReferenceNotFound));
    }
    Ok(())
}

/// Revokes the key's tokens issued before `now_ms` and clears its failure count.
async fn revoke(client: &impl GenericClient, key_id: &str, now_ms: i64) -> Result<bool, Failure> {
    let sql = "INSERT INTO key_imports (key_id, fingerprint, material_expire_at, \
               tokens_not_before, failed_unwraps) VALUES ($1, NULL, NULL, $2, 0) \
               ON CONFLICT (key_id) DO UPDATE SET tokens_not_before = $2, failed_unwraps = 0";
    execute_one(client, sql, &[&key_id, &now_ms]).await
}

/// Inserts an import row (a snapshot's).
pub(crate) async fn insert_import(
    client: &impl GenericClient,
    i: &ImportRecord,
) -> Result<bool, Failure> {
    let sql = "INSERT INTO key_imports (key_id, fingerprint, material_expire_at, \
               tokens_not_before, failed_unwraps, disabled_before_delete) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    write_import(client, sql, i).await
}

/// Runs an insert of `i`'s six columns.
async fn write_import(
    client: &impl GenericClient,
    sql: &str,
    i: &ImportRecord,
) -> Result<bool, Failure> {
    let params: [Param<'_>; 6] = [
        &i.key_id,
        &i.fingerprint,
        &i.material_expire_at,
        &i.tokens_not_before,
        &i.failed_unwraps,
        &i.disabled_before_delete,
    ];
    execute_one(client, sql, &params).await
}

/// Reserves an unwrap attempt in the caller's transaction: the row is made if missing, then
/// locked, so concurrent reservations of one key are decided one after the other.
async fn reserve(
    client: &impl GenericClient,
    key_id: &str,
    issued_ms: i64,
    limit: i64,
    now_ms: i64,
) -> Result<bool, Failure> {
    let sql = "INSERT INTO key_imports (key_id, fingerprint, material_expire_at, \
               tokens_not_before, failed_unwraps) VALUES ($1, NULL, NULL, 0, 0) \
               ON CONFLICT (key_id) DO NOTHING";
    execute_one(client, sql, &[&key_id]).await?;
    let sql = "SELECT tokens_not_before, failed_unwraps FROM key_imports WHERE key_id = $1 \
               FOR UPDATE";
    let statement = client.prepare_cached(sql).await?;
    let row = client.query_one(&statement, &[&key_id]).await?;
    let (not_before, failures): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    if not_before > issued_ms {
        return Ok(false);
    }
    if failures >= limit {
        revoke(client, key_id, now_ms).await?;
        return Ok(false);
    }
    let sql = "UPDATE key_imports SET failed_unwraps = failed_unwraps + 1 WHERE key_id = $1";
    execute_one(client, sql, &[&key_id]).await
}
