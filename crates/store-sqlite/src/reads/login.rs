//! The read of login profiles: a user's profile, and every profile for a snapshot.

use openkms_core::store::records;
use openkms_core::{LoginProfileRecord, StoreError};
use rusqlite::Connection;

use super::{query_all, query_one};
use crate::row::SqlRow;

/// Every login-profile column, in the order `records::login_profile` reads them.
const SELECT: &str = "SELECT user_name, password_hash, password_reset_required, \
                      mfa_bind_required, created_at, updated_at FROM login_profiles";

/// A user's login profile.
pub(crate) fn get_login_profile(
    conn: &Connection,
    user_name: &str,
) -> Result<Option<LoginProfileRecord>, StoreError> {
    let sql = format!("{SELECT} WHERE user_name = ?1");
    query_one(conn, &sql, user_name, |row| {
        records::login_profile(&SqlRow(row))
    })
}

/// Every login profile, by user name.
pub(crate) fn list_login_profiles(
    conn: &Connection,
) -> Result<Vec<LoginProfileRecord>, StoreError> {
    let sql = format!("{SELECT} ORDER BY user_name");
    query_all(conn, &sql, [], |row| records::login_profile(&SqlRow(row)))
}
