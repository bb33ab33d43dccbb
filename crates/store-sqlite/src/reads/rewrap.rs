//! The read of root-key rotation: every wrapped blob, in one read transaction.

use openkms_core::{StoreError, WrappedBlob, WrappedRow};
use rusqlite::Connection;

use super::{column, query_all};
use crate::error::map_error;

/// Every key version's material and AccessKey's secret, in one read transaction.
pub(crate) fn wrapped_blobs(conn: &Connection) -> Result<Vec<WrappedBlob>, StoreError> {
    let tx = conn.unchecked_transaction().map_err(|e| map_error(&e))?;
    let versions = "SELECT v.key_id, v.version_id, k.protection_level = 'SOFTWARE', \
                    v.wrapped_material FROM key_versions v JOIN keys k USING (key_id)";
    let mut blobs = query_all(&tx, versions, [], |row| {
        Ok(WrappedBlob {
            row: WrappedRow::Version {
                key_id: column(row, 0, "key_versions.key_id")?,
                version_id: column(row, 1, "key_versions.version_id")?,
                software: column(row, 2, "keys.protection_level")?,
            },
            bytes: column(row, 3, "key_versions.wrapped_material")?,
        })
    })?;
    let access = "SELECT access_key_id, wrapped_secret FROM access_keys";
    blobs.extend(query_all(&tx, access, [], |row| {
        Ok(WrappedBlob {
            row: WrappedRow::AccessKey {
                access_key_id: column(row, 0, "access_keys.access_key_id")?,
            },
            bytes: column(row, 1, "access_keys.wrapped_secret")?,
        })
    })?);
    tx.finish().map_err(|e| map_error(&e))?;
    Ok(blobs)
}
