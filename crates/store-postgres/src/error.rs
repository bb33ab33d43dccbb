//! Mapping PostgreSQL and pool errors onto [`StoreError`].
//!
//! Owns the one decision of which PostgreSQL failures mean what to the key service, made on
//! SQLSTATE codes only, never on message text, and which failures are worth retrying. The
//! texts it builds carry the SQLSTATE and the server's primary message but never its DETAIL
//! (which quotes row values, for example wrapped material). Does not log and does not retry:
//! the caller decides (see `writes`).

use std::error::Error as _;
use std::io;

use deadpool_postgres::PoolError;
use openkms_core::StoreError;
use tokio_postgres::error::SqlState;

/// Maps a PostgreSQL error from a record operation: `unique_violation` is `AlreadyExists`,
/// `foreign_key_violation` is `ReferenceNotFound`, a lost or refused connection (or a server
/// shutting down or starting up) is `Unreachable`, anything else is `Unavailable`.
pub(crate) fn map_error(error: &tokio_postgres::Error) -> StoreError {
    match error.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => StoreError::AlreadyExists,
        Some(code) if *code == SqlState::FOREIGN_KEY_VIOLATION => StoreError::ReferenceNotFound,
        _ => unavailable(error),
    }
}

/// Any PostgreSQL error as `Unreachable` when the server is out of reach for now, else
/// `Unavailable` (for connecting and migrating, where a constraint violation says nothing
/// about the caller's records).
pub(crate) fn unavailable(error: &tokio_postgres::Error) -> StoreError {
    match is_unreachable(error) {
        true => StoreError::Unreachable(describe(error)),
        false => StoreError::Unavailable(describe(error)),
    }
}

/// Maps a failure to check a connection out of the pool: a connection that could not be
/// made, or none free in time, is `Unreachable`; a closed pool is `Unavailable`.
pub(crate) fn pool_error(error: PoolError) -> StoreError {
    match error {
        PoolError::Backend(error) => unavailable(&error),
        PoolError::Timeout(_) => StoreError::Unreachable(format!("postgres pool: {error}")),
        other => StoreError::Unavailable(format!("postgres pool: {other}")),
    }
}

/// Whether the server is out of reach for now rather than refusing this statement: the
/// connection is closed, refused, reset or timed out at the socket, or the server answered
/// with a connection exception (SQLSTATE class 08) or an operator intervention that ends
/// sessions (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 53300
/// too many connections). A TLS or authentication failure is not: it will not pass by
/// itself. Decided on the error's kind and SQLSTATE, never its text.
fn is_unreachable(error: &tokio_postgres::Error) -> bool {
    if let Some(code) = error.code() {
        let unreachable = [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::TOO_MANY_CONNECTIONS,
        ];
        return code.code().starts_with("08") || unreachable.contains(code);
    }
    let socket = error.source().and_then(|s| s.downcast_ref::<io::Error>());
    error.is_closed() || socket.is_some_and(|e| is_lost_connection(e.kind()))
}

/// The socket errors of a server that is down, restarting or unreachable.
fn is_lost_connection(kind: io::ErrorKind) -> bool {
    use io::ErrorKind as K;
    matches!(
        kind,
        K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::TimedOut
    )
}

/// Whether the failed attempt may succeed if run again: a serialization failure or a
/// deadlock, where PostgreSQL rolled the transaction back as a whole.
pub(crate) fn is_retryable(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// The error for a stored value that cannot be read back as a record field.
///
/// Names the column, never the value (which might be wrapped material).
pub(crate) fn corrupt(column: &'static str) -> StoreError {
    StoreError::Corrupt(format!("unreadable value in {column}"))
}

/// A one-line description: SQLSTATE and primary message for server errors, the client's own
/// text and its cause (for example "connection refused") otherwise.
fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("postgres {}: {}", db.code().code(), db.message());
    }
    match error.source() {
        Some(cause) => format!("postgres: {error}: {cause}"),
        None => format!("postgres: {error}"),
    }
}
