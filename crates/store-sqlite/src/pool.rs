//! The pool of read-only connections.
//!
//! Owns up to [`MAX_READERS`] read-only connections, opened on demand and reused. WAL lets
//! them read while the writer writes, each seeing the last committed state. Reads run on
//! tokio's blocking pool so they never stall the async workers. Does not know any query.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use openkms_core::StoreError;
use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::schema::open_reader;

/// The most read connections open (and reads running) at once.
pub(crate) const MAX_READERS: usize = 4;

/// Read-only connections to one database file.
pub(crate) struct ReadPool {
    /// The database file.
    path: PathBuf,
    /// Connections not in use.
    idle: Mutex<Vec<Connection>>,
    /// One permit per connection that may be in use, so at most [`MAX_READERS`] exist.
    slots: Arc<Semaphore>,
}

impl ReadPool {
    /// A pool for `path`; no connection is opened until the first read.
    pub(crate) fn new(path: PathBuf) -> Arc<Self> {
        Arc::new(Self {
            path,
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(MAX_READERS)),
        })
    }

    /// Runs `read` on a pooled connection on the blocking pool.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the read pool is closed".to_owned()))?;
        let pool = Arc::clone(self);
        let joined = tokio::task::spawn_blocking(move || {
            let result = pool.with_connection(read);
            drop(slot);
            result
        })
        .await;
        joined.map_err(|e| StoreError::Unavailable(format!("read task failed: {e}")))?
    }

    /// Checks a connection out, runs `read`, and checks it back in.
    fn with_connection<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_reader(&self.path)?,
        };
        let result = read(&conn);
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        result
    }
}
