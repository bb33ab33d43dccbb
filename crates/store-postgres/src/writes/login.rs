//! The writes of login profiles (RAM users' console password hashes).
//!
//! Each is one statement: the insert's foreign key refuses a profile of a missing user
//! (`ReferenceNotFound`) and locks the user's row against a concurrent delete, its primary key
//! a second profile (`AlreadyExists`); an update that changes no row is `NotFound`. Deleting the
//! user deletes its profile (`ON DELETE CASCADE`).

use deadpool_postgres::GenericClient;
use openkms_core::{LoginProfileRecord, StoreError};

use super::{Failure, execute_one};

/// One login-profile write, borrowing the caller's record.
pub(crate) enum LoginWrite<'a> {
    /// Insert a profile.
    Create(&'a LoginProfileRecord),
    /// Replace a profile's hash, flags and `updated_at`.
    Update(&'a LoginProfileRecord),
    /// Delete a user's profile.
    Delete(&'a str),
}

impl LoginWrite<'_> {
    /// Runs the statement: whether it wrote (for a delete, whether the profile existed).
    pub(super) async fn apply(&self, client: &impl GenericClient) -> Result<bool, Failure> {
        match *self {
            Self::Create(p) => insert_login_profile(client, p).await,
            Self::Update(p) => update(client, p).await,
            Self::Delete(user_name) => {
                let sql = "DELETE FROM login_profiles WHERE user_name = $1";
                execute_one(client, sql, &[&user_name]).await
            }
        }
    }
}

/// Inserts a profile (also a snapshot's).
pub(crate) async fn insert_login_profile(
    client: &impl GenericClient,
    p: &LoginProfileRecord,
) -> Result<bool, Failure> {
    let sql = "INSERT INTO login_profiles (user_name, password_hash, password_reset_required, \
               mfa_bind_required, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)";
    let params: [super::Param<'_>; 6] = [
        &p.user_name,
        &p.password_hash,
        &p.password_reset_required,
        &p.mfa_bind_required,
        &p.created_at,
        &p.updated_at,
    ];
    execute_one(client, sql, &params).await
}

async fn update(client: &impl GenericClient, p: &LoginProfileRecord) -> Result<bool, Failure> {
    let sql = "UPDATE login_profiles SET password_hash = $2, password_reset_required = $3, \
               mfa_bind_required = $4, updated_at = $5 WHERE user_name = $1";
    let params: [super::Param<'_>; 5] = [
        &p.user_name,
        &p.password_hash,
        &p.password_reset_required,
        &p.mfa_bind_required,
        &p.updated_at,
    ];
    match execute_one(client, sql, &params).await? {
        true => Ok(true),
        false => Err(Failure::Refused(StoreError::NotFound)),
    }
}
