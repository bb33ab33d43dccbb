//! The serving lock: a PostgreSQL advisory lock every node holds (shared) while it serves, and
//! that root-key rotation takes exclusively, so a rotation cannot run while any node writes
//! under the old root key.
//!
//! Session-level advisory locks belong to a connection, so each holder takes a connection of
//! its own from a one-connection pool kept for this (never one of the request pool's), and
//! detaches it: dropping the holder closes the connection, which releases the lock. The key is
//! per database (advisory locks are) and per schema, so stores in separate schemas of one
//! database do not see each other's lock.

use deadpool_postgres::{Object, Pool};
use openkms_core::StoreError;

use crate::error::{map_error, pool_error};

/// The first half of the lock's key: "okms" in ASCII.
const LOCK_CLASS: i32 = 0x6f6b_6d73;

/// A held serving lock; dropping it releases the lock.
pub struct ServingLock {
    /// The connection holding it, detached from its pool.
    _connection: deadpool_postgres::ClientWrapper,
}

impl std::fmt::Debug for ServingLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServingLock")
    }
}

/// Takes the lock shared, waiting while a rotation holds it exclusively.
pub(crate) async fn hold_shared(pool: &Pool) -> Result<ServingLock, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let sql = "SELECT pg_advisory_lock_shared($1, hashtext(current_schema()))";
    client
        .execute(sql, &[&LOCK_CLASS])
        .await
        .map_err(|e| map_error(&e))?;
    Ok(detach(client))
}

/// Takes the lock exclusively if no one holds it; `None` when a node serves.
pub(crate) async fn try_exclusive(pool: &Pool) -> Result<Option<ServingLock>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let sql = "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))";
    let row = client
        .query_one(sql, &[&LOCK_CLASS])
        .await
        .map_err(|e| map_error(&e))?;
    let taken: bool = row.try_get(0).map_err(|e| map_error(&e))?;
    Ok(taken.then(|| detach(client)))
}

/// The connection out of its pool, so that it is closed (not reused) when dropped.
fn detach(client: Object) -> ServingLock {
    ServingLock {
        _connection: Object::take(client),
    }
}
