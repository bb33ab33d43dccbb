//! The read of EXTERNAL keys' import state: one key's, and every row for a snapshot.

use openkms_core::store::records;
use openkms_core::{ImportRecord, StoreError};
use rusqlite::Connection;

use super::{query_all, query_one};
use crate::row::SqlRow;

/// Every import column, in the order `records::import` reads them.
const SELECT: &str = "SELECT key_id, fingerprint, material_expire_at, tokens_not_before, \
                      failed_unwraps, disabled_before_delete FROM key_imports";

/// A key's import state.
pub(crate) fn get_import(
    conn: &Connection,
    key_id: &str,
) -> Result<Option<ImportRecord>, StoreError> {
    let sql = format!("{SELECT} WHERE key_id = ?1");
    query_one(conn, &sql, key_id, |row| records::import(&SqlRow(row)))
}

/// Every import row, by key id.
pub(crate) fn list_imports(conn: &Connection) -> Result<Vec<ImportRecord>, StoreError> {
    let sql = format!("{SELECT} ORDER BY key_id");
    query_all(conn, &sql, [], |row| records::import(&SqlRow(row)))
}
