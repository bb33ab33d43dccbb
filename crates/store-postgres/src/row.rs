//! [`PgRow`]: a PostgreSQL row seen through the core's [`RecordRow`], so the one mapping in
//! `openkms_core::store::records` turns it into a record.
//!
//! Owns how PostgreSQL values read as record fields (`BIGINT`, `TEXT`, `BYTEA`, `BOOLEAN`).
//! Does not know which columns a record has.

use openkms_core::StoreError;
use openkms_core::store::RecordRow;
use openkms_core::store::records::corrupt;
use tokio_postgres::Row;
use tokio_postgres::types::FromSqlOwned;

/// A borrowed PostgreSQL row.
pub(crate) struct PgRow<'a>(pub(crate) &'a Row);

impl PgRow<'_> {
    /// Reads column `index` as `T`; a value of another type is `Corrupt`, naming `column`.
    fn get<T: FromSqlOwned>(&self, index: usize, column: &'static str) -> Result<T, StoreError> {
        self.0.try_get(index).map_err(|_| corrupt(column))
    }
}

impl RecordRow for PgRow<'_> {
    fn text(&self, index: usize, column: &'static str) -> Result<String, StoreError> {
        self.get(index, column)
    }

    fn opt_text(&self, index: usize, column: &'static str) -> Result<Option<String>, StoreError> {
        self.get(index, column)
    }

    fn int(&self, index: usize, column: &'static str) -> Result<i64, StoreError> {
        self.get(index, column)
    }

    fn opt_int(&self, index: usize, column: &'static str) -> Result<Option<i64>, StoreError> {
        self.get(index, column)
    }

    fn bytes(&self, index: usize, column: &'static str) -> Result<Vec<u8>, StoreError> {
        self.get(index, column)
    }

    fn opt_bytes(&self, index: usize, column: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(index, column)
    }

    fn flag(&self, index: usize, column: &'static str) -> Result<bool, StoreError> {
        self.get(index, column)
    }
}
