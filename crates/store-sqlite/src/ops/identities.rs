//! The write commands for RAM identities: users, the AccessKeys they own, custom policies and
//! policy attachments.
//!
//! Owns the rows these records become (a policy type as its API name, a flag as 0/1) and the
//! rules the writes check against the stored state: a user is deleted only when it owns no
//! AccessKey and holds no policy, a custom policy only when it is attached to nobody, a
//! custom policy is attached only if it exists, and a user's AccessKey is created only if the
//! user exists and owns fewer than the caller's limit. Each check runs in the same savepoint
//! as its write, on the one writer connection, so no other write can come between them. Like
//! the rest of `ops`, it neither begins nor commits (see `writer`) and does not read records
//! back (see `reads`).

use openkms_core::{
    AccessKeyRecord, AttachmentRecord, PolicyRecord, PolicyType, StoreError, UserRecord,
};
use rusqlite::{Connection, params};

use super::insert_access_key;
use crate::error::WriteError;

/// One identity write, owned so it can cross to the writer thread.
pub(crate) enum IdentityOp {
    /// Insert a user.
    CreateUser(UserRecord),
    /// Delete a user that owns no AccessKey and holds no policy.
    DeleteUser(String),
    /// Insert an AccessKey of an existing user, unless it owns too many already.
    CreateUserAccessKey {
        /// The AccessKey; `user` names its owner.
        key: AccessKeyRecord,
        /// The most AccessKeys the owner may have after the insert.
        max_per_user: usize,
    },
    /// Set whether an AccessKey may sign requests.
    SetAccessKeyActive {
        /// The AccessKey.
        access_key_id: String,
        /// The new flag.
        active: bool,
    },
    /// Delete an AccessKey by id.
    DeleteAccessKey(String),
    /// Insert a custom policy.
    CreatePolicy(PolicyRecord),
    /// Delete a custom policy attached to nobody.
    DeletePolicy(String),
    /// Attach a policy to a user.
    AttachPolicy(AttachmentRecord),
    /// Detach a policy from a user.
    DetachPolicy {
        /// The user.
        user_name: String,
        /// The policy's family.
        policy_type: PolicyType,
        /// The policy's name.
        policy_name: String,
    },
}

impl IdentityOp {
    /// Runs the command's SQL; the count is 1 or 0 for a delete or detach (whether the record
    /// existed) and 1 for every other command that succeeds. On `Err` the caller rolls back
    /// to its savepoint.
    pub(crate) fn apply(&self, conn: &Connection) -> Result<u64, WriteError> {
        match self {
            Self::CreateUser(user) => Ok(insert_user(conn, user).map(|()| 1)?),
            Self::DeleteUser(user_name) => delete_user(conn, user_name).map(|()| 1),
            Self::CreateUserAccessKey { key, max_per_user } => {
                create_user_access_key(conn, key, *max_per_user).map(|()| 1)
            }
            Self::SetAccessKeyActive {
                access_key_id,
                active,
            } => set_access_key_active(conn, access_key_id, *active).map(|()| 1),
            Self::DeleteAccessKey(access_key_id) => Ok(delete_access_key(conn, access_key_id)?),
            Self::CreatePolicy(policy) => Ok(insert_policy(conn, policy).map(|()| 1)?),
            Self::DeletePolicy(policy_name) => delete_policy(conn, policy_name).map(|()| 1),
            Self::AttachPolicy(attachment) => attach_policy(conn, attachment).map(|()| 1),
            Self::DetachPolicy {
                user_name,
                policy_type,
                policy_name,
            } => Ok(detach_policy(conn, user_name, *policy_type, policy_name)?),
        }
    }
}

pub(crate) fn insert_user(conn: &Connection, user: &UserRecord) -> rusqlite::Result<()> {
    let sql = "INSERT INTO users (user_name, user_id, display_name, mobile_phone, email, \
               comments, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    conn.prepare_cached(sql)?.execute(params![
        user.user_name,
        user.user_id,
        user.display_name,
        user.mobile_phone,
        user.email,
        user.comments,
        user.created_at,
    ])?;
    Ok(())
}

/// Deletes the user in one statement unless it owns an AccessKey or holds a policy; if
/// nothing was deleted, `NotFound` (no such user) or `Conflict` (it still owns or holds
/// something).
fn delete_user(conn: &Connection, user_name: &str) -> Result<(), WriteError> {
    let sql = "DELETE FROM users WHERE user_name = ?1 \
               AND NOT EXISTS (SELECT 1 FROM access_keys WHERE user = ?1) \
               AND NOT EXISTS (SELECT 1 FROM policy_attachments WHERE user_name = ?1)";
    let deleted = conn.prepare_cached(sql)?.execute([user_name])?;
    if deleted == 1 {
        Ok(())
    } else {
        let sql = "SELECT EXISTS (SELECT 1 FROM users WHERE user_name = ?1)";
        refused_unless_missing(conn, sql, user_name)
    }
}

/// After a conditional delete found nothing to delete: `Conflict` if the record `exists_sql`
/// looks for is there (the condition refused it), `NotFound` if it is not.
fn refused_unless_missing(
    conn: &Connection,
    exists_sql: &str,
    name: &str,
) -> Result<(), WriteError> {
    let exists: bool = conn
        .prepare_cached(exists_sql)?
        .query_row([name], |row| row.get(0))?;
    let error = if exists {
        StoreError::Conflict
    } else {
        StoreError::NotFound
    };
    Err(WriteError::Refused(error))
}

/// Inserts the AccessKey if its owner exists (`ReferenceNotFound` if not) and owns fewer
/// than `max_per_user` AccessKeys (`LimitExceeded` if not); a taken id is `AlreadyExists`
/// (the primary key). The writer runs one command at a time, so no `delete_user` or other
/// insert comes between the checks and the insert.
fn create_user_access_key(
    conn: &Connection,
    key: &AccessKeyRecord,
    max_per_user: usize,
) -> Result<(), WriteError> {
    if !user_exists(conn, &key.user)? {
        return Err(WriteError::Refused(StoreError::ReferenceNotFound));
    }
    if owns_at_least(conn, &key.user, max_per_user)? {
        return Err(WriteError::Refused(StoreError::LimitExceeded));
    }
    Ok(insert_access_key(conn, key)?)
}

fn user_exists(conn: &Connection, user_name: &str) -> rusqlite::Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM users WHERE user_name = ?1)";
    conn.prepare_cached(sql)?
        .query_row([user_name], |row| row.get(0))
}

/// Whether the user owns `max` AccessKeys or more.
fn owns_at_least(conn: &Connection, user_name: &str, max: usize) -> rusqlite::Result<bool> {
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    let sql = "SELECT count(*) >= ?2 FROM access_keys WHERE user = ?1";
    conn.prepare_cached(sql)?
        .query_row(params![user_name, max], |row| row.get(0))
}

/// Sets the flag of an existing AccessKey: `NotFound` if there is none (setting the value it
/// already has is not an error).
fn set_access_key_active(
    conn: &Connection,
    access_key_id: &str,
    active: bool,
) -> Result<(), WriteError> {
    let sql = "UPDATE access_keys SET active = ?2 WHERE access_key_id = ?1";
    let updated = conn
        .prepare_cached(sql)?
        .execute(params![access_key_id, i64::from(active)])?;
    if updated == 1 {
        Ok(())
    } else {
        Err(WriteError::Refused(StoreError::NotFound))
    }
}

/// 1 if the AccessKey existed, 0 if not.
fn delete_access_key(conn: &Connection, access_key_id: &str) -> rusqlite::Result<u64> {
    let deleted = conn
        .prepare_cached("DELETE FROM access_keys WHERE access_key_id = ?1")?
        .execute([access_key_id])?;
    Ok(deleted as u64)
}

pub(crate) fn insert_policy(conn: &Connection, policy: &PolicyRecord) -> rusqlite::Result<()> {
    let sql = "INSERT INTO policies (policy_name, description, document, created_at) \
               VALUES (?1, ?2, ?3, ?4)";
    conn.prepare_cached(sql)?.execute(params![
        policy.policy_name,
        policy.description,
        policy.document,
        policy.created_at,
    ])?;
    Ok(())
}

/// Deletes the custom policy in one statement unless it is attached to someone; if nothing
/// was deleted, `NotFound` or `Conflict` as for a user.
fn delete_policy(conn: &Connection, policy_name: &str) -> Result<(), WriteError> {
    let sql = "DELETE FROM policies WHERE policy_name = ?1 \
               AND NOT EXISTS (SELECT 1 FROM policy_attachments \
                               WHERE policy_type = ?2 AND policy_name = ?1)";
    let deleted = conn
        .prepare_cached(sql)?
        .execute(params![policy_name, PolicyType::Custom.as_str()])?;
    if deleted == 1 {
        Ok(())
    } else {
        let sql = "SELECT EXISTS (SELECT 1 FROM policies WHERE policy_name = ?1)";
        refused_unless_missing(conn, sql, policy_name)
    }
}

/// Inserts the attachment: `ReferenceNotFound` if the policy is custom and missing, or (a
/// foreign-key violation) if the user is missing; `AlreadyExists` (the primary key) if the
/// user holds the policy already.
pub(crate) fn attach_policy(
    conn: &Connection,
    attachment: &AttachmentRecord,
) -> Result<(), WriteError> {
    if attachment.policy_type == PolicyType::Custom
        && !policy_exists(conn, &attachment.policy_name)?
    {
        return Err(WriteError::Refused(StoreError::ReferenceNotFound));
    }
    let sql = "INSERT INTO policy_attachments (user_name, policy_type, policy_name, attached_at) \
               VALUES (?1, ?2, ?3, ?4)";
    conn.prepare_cached(sql)?.execute(params![
        attachment.user_name,
        attachment.policy_type.as_str(),
        attachment.policy_name,
        attachment.attached_at,
    ])?;
    Ok(())
}

fn policy_exists(conn: &Connection, policy_name: &str) -> rusqlite::Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM policies WHERE policy_name = ?1)";
    conn.prepare_cached(sql)?
        .query_row([policy_name], |row| row.get(0))
}

/// 1 if the user held the policy, 0 if not.
fn detach_policy(
    conn: &Connection,
    user_name: &str,
    policy_type: PolicyType,
    policy_name: &str,
) -> rusqlite::Result<u64> {
    let sql = "DELETE FROM policy_attachments \
               WHERE user_name = ?1 AND policy_type = ?2 AND policy_name = ?3";
    let deleted =
        conn.prepare_cached(sql)?
            .execute(params![user_name, policy_type.as_str(), policy_name])?;
    Ok(deleted as u64)
}
