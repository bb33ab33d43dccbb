//! The read queries of RAM identities: users, a user's AccessKeys, custom policies and policy
//! attachments.
//!
//! Owns how their rows become records again (a policy type must be a name this build knows,
//! or the row is `Corrupt`) and the orderings of their lists, in byte order (`COLLATE "C"`)
//! as the rest of `reads` sorts. Does not write (see `writes`).

use crate::row::PgRow;
use deadpool_postgres::Pool;
use openkms_core::store::records;
use openkms_core::{
    AccessKeyRecord, AttachmentRecord, PolicyRecord, PolicyType, StoreError, UserRecord,
};
use tokio_postgres::Row;

use super::{parse_access_key, query_all, query_one};

/// A `SELECT` of every user column, in the order [`parse_user`] reads them, then `$rest`.
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT user_name, user_id, display_name, mobile_phone, email, comments, ",
            "created_at FROM users ",
            $rest
        )
    };
}

/// A `SELECT` of every policy column, in the order [`parse_policy`] reads them, then `$rest`.
macro_rules! select_policies {
    ($rest:literal) => {
        concat!(
            "SELECT policy_name, description, document, created_at FROM policies ",
            $rest
        )
    };
}

/// A `SELECT` of every attachment column, in the order [`parse_attachment`] reads them,
/// then `$rest`.
macro_rules! select_attachments {
    ($rest:literal) => {
        concat!(
            "SELECT user_name, policy_type, policy_name, attached_at FROM policy_attachments ",
            $rest
        )
    };
}

/// Reads a user.
pub(crate) async fn get_user(
    pool: &Pool,
    user_name: &str,
) -> Result<Option<UserRecord>, StoreError> {
    query_one(
        pool,
        select_users!("WHERE user_name = $1"),
        user_name,
        parse_user,
    )
    .await
}

/// Lists every user, sorted by name in byte order.
pub(crate) async fn list_users(pool: &Pool) -> Result<Vec<UserRecord>, StoreError> {
    let sql = select_users!("ORDER BY user_name COLLATE \"C\"");
    query_all(pool, sql, &[], parse_user).await
}

fn parse_user(row: &Row) -> Result<UserRecord, StoreError> {
    records::user(&PgRow(row))
}

/// Lists the AccessKeys of `user_name`, oldest first (by creation time, then AccessKeyId in
/// byte order).
pub(crate) async fn list_access_keys(
    pool: &Pool,
    user_name: &str,
) -> Result<Vec<AccessKeyRecord>, StoreError> {
    let sql = "SELECT access_key_id, \"user\", wrapped_secret, active, created_at \
               FROM access_keys WHERE \"user\" = $1 \
               ORDER BY created_at, access_key_id COLLATE \"C\"";
    query_all(pool, sql, &[&user_name], parse_access_key).await
}

/// Reads a custom policy.
pub(crate) async fn get_policy(
    pool: &Pool,
    policy_name: &str,
) -> Result<Option<PolicyRecord>, StoreError> {
    let sql = select_policies!("WHERE policy_name = $1");
    query_one(pool, sql, policy_name, parse_policy).await
}

/// Lists every custom policy, sorted by name in byte order.
pub(crate) async fn list_policies(pool: &Pool) -> Result<Vec<PolicyRecord>, StoreError> {
    let sql = select_policies!("ORDER BY policy_name COLLATE \"C\"");
    query_all(pool, sql, &[], parse_policy).await
}

fn parse_policy(row: &Row) -> Result<PolicyRecord, StoreError> {
    records::policy(&PgRow(row))
}

/// Lists the policies `user_name` holds, oldest attachment first, then by policy type name
/// and policy name in byte order (so `Custom` before `System`).
pub(crate) async fn list_user_attachments(
    pool: &Pool,
    user_name: &str,
) -> Result<Vec<AttachmentRecord>, StoreError> {
    let sql = select_attachments!(
        "WHERE user_name = $1 \
         ORDER BY attached_at, policy_type COLLATE \"C\", policy_name COLLATE \"C\""
    );
    query_all(pool, sql, &[&user_name], parse_attachment).await
}

/// Lists the users holding a policy, oldest attachment first, then by user name in byte
/// order.
pub(crate) async fn list_policy_attachments(
    pool: &Pool,
    policy_type: PolicyType,
    policy_name: &str,
) -> Result<Vec<AttachmentRecord>, StoreError> {
    let sql = select_attachments!(
        "WHERE policy_type = $1 AND policy_name = $2 \
         ORDER BY attached_at, user_name COLLATE \"C\""
    );
    let policy_type = policy_type.as_str();
    query_all(pool, sql, &[&policy_type, &policy_name], parse_attachment).await
}

fn parse_attachment(row: &Row) -> Result<AttachmentRecord, StoreError> {
    records::attachment(&PgRow(row))
}
