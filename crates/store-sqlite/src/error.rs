//! Mapping SQLite errors onto [`StoreError`].
//!
//! Owns the one decision of which SQLite failures mean what to the key service, made on
//! extended result codes only, never on message text, and the error a write command returns
//! ([`WriteError`]). Does not log: the caller decides what to do with the error, and no record
//! content ever reaches this module.

use openkms_core::StoreError;
use rusqlite::ffi;

/// Maps a SQLite error: a unique or primary-key violation is `AlreadyExists`, a foreign-key
/// violation is `ReferenceNotFound`, anything else is `Unavailable`.
pub(crate) fn map_error(error: &rusqlite::Error) -> StoreError {
    match error.sqlite_error().map(|e| e.extended_code) {
        Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
            StoreError::AlreadyExists
        }
        Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => StoreError::ReferenceNotFound,
        _ => StoreError::Unavailable(format!("sqlite: {error}")),
    }
}

/// Why a write command failed.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// SQLite refused a statement (a constraint, I/O, ...); mapped by [`map_error`].
    Sqlite(rusqlite::Error),
    /// The command found the stored state its contract refuses (`NotFound`, `Conflict`, ...).
    Refused(StoreError),
}

impl From<rusqlite::Error> for WriteError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

impl WriteError {
    /// The error the caller of the store sees.
    pub(crate) fn into_store_error(self) -> StoreError {
        match self {
            Self::Sqlite(error) => map_error(&error),
            Self::Refused(error) => error,
        }
    }
}

/// The error for a stored value that cannot be read back as a record field.
///
/// Names the column, never the value (which might be wrapped material).
pub(crate) fn corrupt(column: &'static str) -> StoreError {
    StoreError::Corrupt(format!("unreadable value in {column}"))
}

/// The error for a write submitted after the writer thread stopped.
pub(crate) fn writer_stopped() -> StoreError {
    StoreError::Unavailable("the sqlite writer thread has stopped".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_failure(extended_code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(extended_code), None)
    }

    #[test]
    fn constraint_codes_map_to_typed_errors() {
        let unique = map_error(&sqlite_failure(ffi::SQLITE_CONSTRAINT_UNIQUE));
        assert!(matches!(unique, StoreError::AlreadyExists));
        let primary = map_error(&sqlite_failure(ffi::SQLITE_CONSTRAINT_PRIMARYKEY));
        assert!(matches!(primary, StoreError::AlreadyExists));
        let foreign = map_error(&sqlite_failure(ffi::SQLITE_CONSTRAINT_FOREIGNKEY));
        assert!(matches!(foreign, StoreError::ReferenceNotFound));
    }

    #[test]
    fn other_failures_are_unavailable() {
        for code in [
            ffi::SQLITE_CONSTRAINT_NOTNULL,
            ffi::SQLITE_BUSY,
            ffi::SQLITE_IOERR_FSYNC,
        ] {
            let mapped = map_error(&sqlite_failure(code));
            assert!(
                matches!(mapped, StoreError::Unavailable(_)),
                "{code}: {mapped:?}"
            );
        }
        assert!(matches!(
            map_error(&rusqlite::Error::QueryReturnedNoRows),
            StoreError::Unavailable(_)
        ));
    }
}
