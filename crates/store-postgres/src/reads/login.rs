//! The reads of login profiles: a user's profile, and every profile for a snapshot.

use deadpool_postgres::{GenericClient, Pool};
use openkms_core::store::records;
use openkms_core::{LoginProfileRecord, StoreError};

use super::query_one;
use crate::error::map_error;
use crate::row::PgRow;

/// Every login-profile column, in the order `records::login_profile` reads them.
const SELECT: &str = "SELECT user_name, password_hash, password_reset_required, \
                      mfa_bind_required, created_at, updated_at FROM login_profiles";

/// A user's login profile.
pub(crate) async fn get_login_profile(
    pool: &Pool,
    user_name: &str,
) -> Result<Option<LoginProfileRecord>, StoreError> {
    let sql = format!("{SELECT} WHERE user_name = $1");
    query_one(pool, &sql, user_name, |row| {
        records::login_profile(&PgRow(row))
    })
    .await
}

/// Every login profile, on `client` (a snapshot's transaction).
pub(crate) async fn list_login_profiles(
    client: &impl GenericClient,
) -> Result<Vec<LoginProfileRecord>, StoreError> {
    let rows = client.query(SELECT, &[]).await.map_err(|e| map_error(&e))?;
    rows.iter()
        .map(|row| records::login_profile(&PgRow(row)))
        .collect()
}
