//! The read queries of RAM identities: users, a user's AccessKeys, custom policies and policy
//! attachments.
//!
//! Owns how their rows become records again (a policy type must be a name this build knows,
//! or the row is `Corrupt`) and the orderings of their lists, compared byte by byte as the
//! rest of `reads` does. Does not write (see `ops`).

use crate::row::SqlRow;
use openkms_core::store::records;
use openkms_core::{
    AccessKeyRecord, AttachmentRecord, PolicyRecord, PolicyType, StoreError, UserRecord,
};
use rusqlite::{Connection, Row, params};

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
pub(crate) fn get_user(
    conn: &Connection,
    user_name: &str,
) -> Result<Option<UserRecord>, StoreError> {
    query_one(
        conn,
        select_users!("WHERE user_name = ?1"),
        user_name,
        parse_user,
    )
}

/// Lists every user, sorted by name (byte order).
pub(crate) fn list_users(conn: &Connection) -> Result<Vec<UserRecord>, StoreError> {
    query_all(conn, select_users!("ORDER BY user_name"), [], parse_user)
}

fn parse_user(row: &Row<'_>) -> Result<UserRecord, StoreError> {
    records::user(&SqlRow(row))
}

/// Lists the AccessKeys of `user_name`, oldest first (creation time, then AccessKeyId in
/// byte order).
pub(crate) fn list_access_keys(
    conn: &Connection,
    user_name: &str,
) -> Result<Vec<AccessKeyRecord>, StoreError> {
    let sql = "SELECT access_key_id, user, wrapped_secret, active, created_at \
               FROM access_keys WHERE user = ?1 ORDER BY created_at, access_key_id";
    query_all(conn, sql, [user_name], parse_access_key)
}

/// Reads a custom policy.
pub(crate) fn get_policy(
    conn: &Connection,
    policy_name: &str,
) -> Result<Option<PolicyRecord>, StoreError> {
    let sql = select_policies!("WHERE policy_name = ?1");
    query_one(conn, sql, policy_name, parse_policy)
}

/// Lists every custom policy, sorted by name (byte order).
pub(crate) fn list_policies(conn: &Connection) -> Result<Vec<PolicyRecord>, StoreError> {
    query_all(
        conn,
        select_policies!("ORDER BY policy_name"),
        [],
        parse_policy,
    )
}

fn parse_policy(row: &Row<'_>) -> Result<PolicyRecord, StoreError> {
    records::policy(&SqlRow(row))
}

/// Lists the policies `user_name` holds, oldest attachment first, then by policy type name
/// and policy name (byte order, so `Custom` before `System`).
pub(crate) fn list_user_attachments(
    conn: &Connection,
    user_name: &str,
) -> Result<Vec<AttachmentRecord>, StoreError> {
    let sql =
        select_attachments!("WHERE user_name = ?1 ORDER BY attached_at, policy_type, policy_name");
    query_all(conn, sql, [user_name], parse_attachment)
}

/// Lists the users holding a policy, oldest attachment first, then by user name (byte order).
pub(crate) fn list_policy_attachments(
    conn: &Connection,
    policy_type: PolicyType,
    policy_name: &str,
) -> Result<Vec<AttachmentRecord>, StoreError> {
    let sql = select_attachments!(
        "WHERE policy_type = ?1 AND policy_name = ?2 ORDER BY attached_at, user_name"
    );
    let params = params![policy_type.as_str(), policy_name];
    query_all(conn, sql, params, parse_attachment)
}

fn parse_attachment(row: &Row<'_>) -> Result<AttachmentRecord, StoreError> {
    records::attachment(&SqlRow(row))
}
