//! Runs the shared conformance suite (`openkms-store-tests`) on [`SqliteStore`].
//!
//! Each check gets its own temporary directory; reopening opens the same `openkms.db` again.
//! This file owns only that wiring; the checks themselves live in the suite.

use openkms_store_sqlite::SqliteStore;
use openkms_store_tests::StoreFactory;

/// A fresh temporary data directory holding one database file.
struct SqliteFactory {
    /// Kept so the directory lives as long as the check.
    dir: tempfile::TempDir,
}

impl StoreFactory for SqliteFactory {
    type Store = SqliteStore;

    async fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.dir.path().join("openkms.db")).expect("open the sqlite store")
    }
}

async fn factory() -> SqliteFactory {
    SqliteFactory {
        dir: tempfile::tempdir().expect("create a temporary directory"),
    }
}

openkms_store_tests::conformance_tests!(factory);
