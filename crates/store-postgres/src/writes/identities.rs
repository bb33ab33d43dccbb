//! The writes of RAM identities: users, the AccessKeys they own, custom policies and policy
//! attachments.
//!
//! Owns the rows these records become (a policy type as its API name) and the rules the
//! writes check against the stored state, made safe against other nodes by row locks inside
//! one transaction:
//!
//! - deleting a user or a custom policy first locks its row `FOR UPDATE` (none: `NotFound`),
//!   then deletes it only if nothing depends on it (something does: `Conflict`). The second
//!   statement takes a new snapshot after the lock is held, so it sees every attachment
//!   committed by a writer that held the row before it;
//! - attaching locks the user's row `FOR KEY SHARE` (the foreign key's check does) and, for a
//!   custom policy, the policy's row the same way (none: `ReferenceNotFound`), so an attach
//!   and a delete of what it refers to are ordered: whichever locks second sees the other's
//!   commit;
//! - creating a user's AccessKey locks the user's row `FOR NO KEY UPDATE` (none:
//!   `ReferenceNotFound`), then counts the user's AccessKeys (too many: `LimitExceeded`) and
//!   inserts. That lock conflicts with itself and with a delete's `FOR UPDATE`, so racing
//!   creates for one user count one after another, and a create and a delete of its user are
//!   ordered like an attach and a delete; it does not wait for attaches (`FOR KEY SHARE`).
//!
//! Transactions, retries and error mapping are `writes`'s (the parent module); this module
//! does not read records back (see `reads`).

use deadpool_postgres::GenericClient;
use openkms_core::{
    AccessKeyRecord, AttachmentRecord, PolicyRecord, PolicyType, StoreError, UserRecord,
};

use super::{Failure, Param, execute_one, insert_access_key};

/// One identity write, borrowing the caller's records.
pub(crate) enum IdentityWrite<'a> {
    /// Insert a user.
    CreateUser(&'a UserRecord),
    /// Delete a user that owns no AccessKey and holds no policy.
    DeleteUser(&'a str),
    /// Insert an AccessKey of an existing user, unless it owns too many already.
    CreateUserAccessKey {
        /// The AccessKey; `user` names its owner.
        key: &'a AccessKeyRecord,
        /// The most AccessKeys the owner may have after the insert.
        max_per_user: usize,
    },
    /// Set whether an AccessKey may sign requests.
    SetAccessKeyActive {
        /// The AccessKey.
        access_key_id: &'a str,
        /// The new flag.
        active: bool,
    },
    /// Delete an AccessKey by id.
    DeleteAccessKey(&'a str),
    /// Insert a custom policy.
    CreatePolicy(&'a PolicyRecord),
    /// Delete a custom policy attached to nobody.
    DeletePolicy(&'a str),
    /// Attach a policy to a user.
    AttachPolicy(&'a AttachmentRecord),
    /// Detach a policy from a user.
    DetachPolicy {
        /// The user.
        user_name: &'a str,
        /// The policy's family.
        policy_type: PolicyType,
        /// The policy's name.
        policy_name: &'a str,
    },
}

impl IdentityWrite<'_> {
    /// Whether the write locks a row before changing another, and so needs a transaction
    /// (attaching a system policy is one insert: it has no policy row to lock).
    pub(super) fn needs_transaction(&self) -> bool {
        match self {
            Self::DeleteUser(_) | Self::DeletePolicy(_) | Self::CreateUserAccessKey { .. } => true,
            Self::AttachPolicy(attachment) => attachment.policy_type == PolicyType::Custom,
            _ => false,
        }
    }

    /// Runs the write's statements; whether it wrote (for a delete or detach: whether the
    /// record existed).
    pub(super) async fn apply(&self, client: &impl GenericClient) -> Result<bool, Failure> {
        match *self {
            Self::CreateUser(user) => insert_user(client, user).await,
            Self::DeleteUser(user_name) => delete_user(client, user_name).await,
            Self::CreateUserAccessKey { key, max_per_user } => {
                create_user_access_key(client, key, max_per_user).await
            }
            Self::SetAccessKeyActive {
                access_key_id,
                active,
            } => set_access_key_active(client, access_key_id, active).await,
            Self::DeleteAccessKey(access_key_id) => {
                let sql = "DELETE FROM access_keys WHERE access_key_id = $1";
                execute_one(client, sql, &[&access_key_id]).await
            }
            Self::CreatePolicy(policy) => insert_policy(client, policy).await,
            Self::DeletePolicy(policy_name) => delete_policy(client, policy_name).await,
            Self::AttachPolicy(attachment) => attach_policy(client, attachment).await,
            Self::DetachPolicy {
                user_name,
                policy_type,
                policy_name,
            } => detach_policy(client, user_name, policy_type, policy_name).await,
        }
    }
}

pub(super) async fn insert_user(
    client: &impl GenericClient,
    user: &UserRecord,
) -> Result<bool, Failure> {
    let sql = "INSERT INTO users (user_name, user_id, display_name, mobile_phone, email, \
               comments, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let params: [Param<'_>; 7] = [
        &user.user_name,
        &user.user_id,
        &user.display_name,
        &user.mobile_phone,
        &user.email,
        &user.comments,
        &user.created_at,
    ];
    execute_one(client, sql, &params).await
}

/// Whether `lock_sql` (a `SELECT ... FOR UPDATE` or `FOR KEY SHARE` of one row by name)
/// found and locked the row.
async fn lock_row(
    client: &impl GenericClient,
    lock_sql: &str,
    name: &str,
) -> Result<bool, Failure> {
    let statement = client.prepare_cached(lock_sql).await?;
    Ok(client.query_opt(&statement, &[&name]).await?.is_some())
}

/// Locks the user's row, then deletes it unless it owns an AccessKey or holds a policy:
/// `NotFound` if there is no row, `Conflict` if something still depends on it.
async fn delete_user(client: &impl GenericClient, user_name: &str) -> Result<bool, Failure> {
    let lock = "SELECT 1 FROM users WHERE user_name = $1 FOR UPDATE";
    let delete = "DELETE FROM users WHERE user_name = $1 \
                  AND NOT EXISTS (SELECT 1 FROM access_keys WHERE \"user\" = $1) \
                  AND NOT EXISTS (SELECT 1 FROM policy_attachments WHERE user_name = $1)";
    delete_unless_used(client, lock, delete, &[&user_name], user_name).await
}

/// Locks a custom policy's row, then deletes it unless it is attached: `NotFound` if there
/// is no row, `Conflict` if it is attached to someone.
async fn delete_policy(client: &impl GenericClient, policy_name: &str) -> Result<bool, Failure> {
    let lock = "SELECT 1 FROM policies WHERE policy_name = $1 FOR UPDATE";
    let delete = "DELETE FROM policies WHERE policy_name = $1 \
                  AND NOT EXISTS (SELECT 1 FROM policy_attachments \
                                  WHERE policy_type = $2 AND policy_name = $1)";
    let custom = PolicyType::Custom.as_str();
    delete_unless_used(client, lock, delete, &[&policy_name, &custom], policy_name).await
}

/// The steps of a conditional delete: `lock` the row named `name` (`NotFound` if there is
/// none), then run `delete` with `params` (`Conflict` if its condition kept the row).
async fn delete_unless_used(
    client: &impl GenericClient,
    lock: &str,
    delete: &str,
    params: &[Param<'_>],
    name: &str,
) -> Result<bool, Failure> {
    if !lock_row(client, lock, name).await? {
        return Err(Failure::Refused(StoreError::NotFound));
    }
    if execute_one(client, delete, params).await? {
        Ok(true)
    } else {
        Err(Failure::Refused(StoreError::Conflict))
    }
}

/// Locks the owner's row (`ReferenceNotFound` if there is none), then inserts the AccessKey
/// unless the owner has `max_per_user` already (`LimitExceeded`, and the caller rolls the
/// transaction back); a taken id is `AlreadyExists` (the primary key). The count is a new
/// snapshot taken after the lock is held, so it sees every AccessKey committed by a writer
/// that held the row before.
async fn create_user_access_key(
    client: &impl GenericClient,
    key: &AccessKeyRecord,
    max_per_user: usize,
) -> Result<bool, Failure> {
    let lock = "SELECT 1 FROM users WHERE user_name = $1 FOR NO KEY UPDATE";
    if !lock_row(client, lock, &key.user).await? {
        return Err(Failure::Refused(StoreError::ReferenceNotFound));
    }
    let max = i64::try_from(max_per_user).unwrap_or(i64::MAX);
    let sql = "SELECT count(*) >= $2 FROM access_keys WHERE \"user\" = $1";
    let statement = client.prepare_cached(sql).await?;
    let row = client.query_one(&statement, &[&key.user, &max]).await?;
    if row.try_get(0)? {
        return Err(Failure::Refused(StoreError::LimitExceeded));
    }
    insert_access_key(client, key).await
}

/// Sets the flag of an existing AccessKey: `NotFound` if there is none (setting the value it
/// already has is not an error).
async fn set_access_key_active(
    client: &impl GenericClient,
    access_key_id: &str,
    active: bool,
) -> Result<bool, Failure> {
    let sql = "UPDATE access_keys SET active = $2 WHERE access_key_id = $1";
    if execute_one(client, sql, &[&access_key_id, &active]).await? {
        Ok(true)
    } else {
        Err(Failure::Refused(StoreError::NotFound))
    }
}

pub(super) async fn insert_policy(
    client: &impl GenericClient,
    policy: &PolicyRecord,
) -> Result<bool, Failure> {
    let sql = "INSERT INTO policies (policy_name, description, document, created_at) \
               VALUES ($1, $2, $3, $4)";
    let params: [Param<'_>; 4] = [
        &policy.policy_name,
        &policy.description,
        &policy.document,
        &policy.created_at,
    ];
    execute_one(client, sql, &params).await
}

/// Locks a custom policy's row against deletion (`ReferenceNotFound` if there is none), then
/// inserts the attachment: `ReferenceNotFound` (a foreign-key violation) if the user is
/// missing, `AlreadyExists` (the primary key) if it holds the policy already.
pub(super) async fn attach_policy(
    client: &impl GenericClient,
    attachment: &AttachmentRecord,
) -> Result<bool, Failure> {
    if attachment.policy_type == PolicyType::Custom {
        let lock = "SELECT 1 FROM policies WHERE policy_name = $1 FOR KEY SHARE";
        if !lock_row(client, lock, &attachment.policy_name).await? {
            return Err(Failure::Refused(StoreError::ReferenceNotFound));
        }
    }
    let sql = "INSERT INTO policy_attachments (user_name, policy_type, policy_name, attached_at) \
               VALUES ($1, $2, $3, $4)";
    let policy_type = attachment.policy_type.as_str();
    let params: [Param<'_>; 4] = [
        &attachment.user_name,
        &policy_type,
        &attachment.policy_name,
        &attachment.attached_at,
    ];
    execute_one(client, sql, &params).await
}

/// Whether the user held the policy (and so it was detached).
async fn detach_policy(
    client: &impl GenericClient,
    user_name: &str,
    policy_type: PolicyType,
    policy_name: &str,
) -> Result<bool, Failure> {
    let sql = "DELETE FROM policy_attachments \
               WHERE user_name = $1 AND policy_type = $2 AND policy_name = $3";
    let policy_type = policy_type.as_str();
    execute_one(client, sql, &[&user_name, &policy_type, &policy_name]).await
}
