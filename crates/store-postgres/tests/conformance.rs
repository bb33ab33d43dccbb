//! Runs the shared conformance suite (`openkms-store-tests`) on [`PostgresStore`].
//!
//! Each check gets a fresh schema in the test database (see `common` for how the database
//! is found, and what happens when it is absent); reopening builds a new pool over the same
//! schema, so the durability check really reconnects. The schema is dropped when the check
//! ends. This file owns only that wiring; the checks themselves live in the suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use openkms_store_postgres::PostgresStore;
use openkms_store_tests::StoreFactory;

use crate::common::{POOL_SIZE, TestSchema, database_available, database_url};

/// One check's schema in the test database.
struct PostgresFactory {
    /// The database URL.
    url: String,
    /// The schema, dropped with the factory at the end of the check.
    schema: TestSchema,
}

impl StoreFactory for PostgresFactory {
    type Store = PostgresStore;

    async fn open(&self) -> PostgresStore {
        PostgresStore::connect_with_schema(&self.url, POOL_SIZE, &self.schema.name)
            .await
            .expect("connect to the test PostgreSQL")
    }
}

async fn factory() -> PostgresFactory {
    PostgresFactory {
        url: database_url(),
        schema: TestSchema::new(),
    }
}

// The block is expanded inside each generated `#[test] fn`, so its `return` ends the test
// early (as passed) when the database is absent outside CI; `database_available` has said so
// on the terminal, and panics instead under CI.
openkms_store_tests::conformance_tests!({
    if !database_available() {
        return;
    }
    factory
});
