//! [`SqlRow`]: a SQLite row seen through the core's [`RecordRow`], so the one mapping in
//! `openkms_core::store::records` turns it into a record.
//!
//! Owns how SQLite values read as record fields: booleans are stored as 0 or 1 (anything
//! else is `Corrupt`). Does not know which columns a record has.

use openkms_core::StoreError;
use openkms_core::store::RecordRow;
use openkms_core::store::records::corrupt;
use rusqlite::Row;
use rusqlite::types::FromSql;

/// A borrowed SQLite row.
pub(crate) struct SqlRow<'a, 'stmt>(pub(crate) &'a Row<'stmt>);

impl SqlRow<'_, '_> {
    /// Reads column `index` as `T`; a value of another type is `Corrupt`, naming `column`.
    fn get<T: FromSql>(&self, index: usize, column: &'static str) -> Result<T, StoreError> {
        self.0.get(index).map_err(|_| corrupt(column))
    }
}

impl RecordRow for SqlRow<'_, '_> {
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
        match self.get::<i64>(index, column)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(corrupt(column)),
        }
    }
}
