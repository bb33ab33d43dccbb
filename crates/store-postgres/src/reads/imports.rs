//! The reads of EXTERNAL keys' import state: one key's, and every row for a snapshot.

use deadpool_postgres::{GenericClient, Pool};
use openkms_core::store::records;
use openkms_core::{ImportRecord, StoreError};

use super::query_one;
use crate::error::map_error;
use crate::row::PgRow;

/// Every import column, in the order `records::import` reads them.
const SELECT: &str = "SELECT key_id, fingerprint, material_expire_at, tokens_not_before, \
                      failed_unwraps, disabled_before_delete FROM key_imports";

/// A key's import state.
pub(crate) async fn get_import(
    pool: &Pool,
    key_id: &str,
) -> Result<Option<ImportRecord>, StoreError> {
    let sql = format!("{SELECT} WHERE key_id = $1");
    query_one(pool, &sql, key_id, |row| records::import(&PgRow(row))).await
}

/// Every import row, on `client` (a snapshot's transaction).
pub(crate) async fn list_imports(
    client: &impl GenericClient,
) -> Result<Vec<ImportRecord>, StoreError> {
    let rows = client.query(SELECT, &[]).await.map_err(|e| map_error(&e))?;
    rows.iter()
        .map(|row| records::import(&PgRow(row)))
        .collect()
}
