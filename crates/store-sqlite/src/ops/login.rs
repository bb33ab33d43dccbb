//! The write commands of login profiles (RAM users' console password hashes).
//!
//! A profile of a missing user is the foreign-key violation of its insert
//! (`ReferenceNotFound`), a second one the primary key's (`AlreadyExists`); an update of a
//! missing profile is `NotFound`. Like the rest of `ops`, it neither begins nor commits.

use openkms_core::{LoginProfileRecord, StoreError};
use rusqlite::{Connection, params};

use crate::error::WriteError;

/// One login-profile write, owned so it can cross to the writer thread.
pub(crate) enum LoginOp {
    /// Insert a profile.
    Create(LoginProfileRecord),
    /// Replace a profile's hash, flags and `updated_at`.
    Update(LoginProfileRecord),
    /// Delete a user's profile.
    Delete(String),
}

impl LoginOp {
    /// Runs the command's SQL; 1, or for a delete whether the profile existed.
    pub(crate) fn apply(&self, conn: &Connection) -> Result<u64, WriteError> {
        match self {
            Self::Create(p) => Ok(insert_login_profile(conn, p).map(|()| 1)?),
            Self::Update(p) => update(conn, p),
            Self::Delete(user_name) => {
                let sql = "DELETE FROM login_profiles WHERE user_name = ?1";
                Ok(conn.prepare_cached(sql)?.execute([user_name])? as u64)
            }
        }
    }
}

/// Inserts a profile (also a snapshot's).
pub(crate) fn insert_login_profile(
    conn: &Connection,
    p: &LoginProfileRecord,
) -> rusqlite::Result<()> {
    let sql = "INSERT INTO login_profiles (user_name, password_hash, password_reset_required, \
               mfa_bind_required, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    conn.prepare_cached(sql)?.execute(params![
        p.user_name,
        p.password_hash,
        p.password_reset_required,
        p.mfa_bind_required,
        p.created_at,
        p.updated_at,
    ])?;
    Ok(())
}

fn update(conn: &Connection, p: &LoginProfileRecord) -> Result<u64, WriteError> {
    let sql = "UPDATE login_profiles SET password_hash = ?2, password_reset_required = ?3, \
               mfa_bind_required = ?4, updated_at = ?5 WHERE user_name = ?1";
    let changed = conn.prepare_cached(sql)?.execute(params![
        p.user_name,
        p.password_hash,
        p.password_reset_required,
        p.mfa_bind_required,
        p.updated_at,
    ])?;
    match changed {
        1 => Ok(1),
        _ => Err(WriteError::Refused(StoreError::NotFound)),
    }
}
