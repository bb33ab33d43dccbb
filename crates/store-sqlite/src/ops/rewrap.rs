//! The write of root-key rotation: every wrapped blob replaced in the one savepoint of the
//! command, each row only over the bytes it was read with.

use openkms_core::{Rewrap, StoreError, WrappedRow};
use rusqlite::{Connection, params};

use crate::error::WriteError;

/// Replaces every blob; a row that is missing or changed refuses the whole command with
/// `Conflict` (the caller rolls back its savepoint).
pub(crate) fn replace_wrapped(conn: &Connection, changes: &[Rewrap]) -> Result<u64, WriteError> {
    for change in changes {
        let (sql, id) = match &change.row {
            WrappedRow::Version { version_id, .. } => (
                "UPDATE key_versions SET wrapped_material = ?1 \
                 WHERE version_id = ?2 AND wrapped_material = ?3",
                version_id,
            ),
            WrappedRow::AccessKey { access_key_id } => (
                "UPDATE access_keys SET wrapped_secret = ?1 \
                 WHERE access_key_id = ?2 AND wrapped_secret = ?3",
                access_key_id,
            ),
            WrappedRow::Meta { name } => (
                "UPDATE meta SET value = ?1 WHERE name = ?2 AND value = ?3",
                name,
            ),
        };
        let updated = conn
            .prepare_cached(sql)?
            .execute(params![change.new, id, change.old])?;
        if updated != 1 {
            return Err(WriteError::Refused(StoreError::Conflict));
        }
    }
    Ok(changes.len() as u64)
}
