//! The RAM operations (users, AccessKeys, login profiles, policies, attachments), one file each, and what
//! they share: the resource ARNs authorization checks them against, the caller's own user
//! (the AccessKey actions' default), and keyset paging of listings (a page resumes after the
//! last entry of the previous one, whose cursor the codec writes as the `Marker`).
//!
//! The ARNs are authorization vocabulary (what a RAM policy's `Resource` names), not wire
//! format: `acs:ram:*:<account>:user/<name>`, `acs:ram:*:<owner>:policy/<name>` and the
//! account `acs:ram:*:<account>:*`.

mod attach_policy_to_user;
mod change_password;
mod create_access_key;
mod create_login_profile;
mod create_policy;
mod create_user;
mod delete_access_key;
mod delete_login_profile;
mod delete_policy;
mod delete_user;
mod detach_policy_from_user;
mod get_login_profile;
mod get_policy;
mod get_user;
mod list_access_keys;
mod list_policies;
mod list_policies_for_user;
mod list_users;
mod login_profile;
mod update_access_key;
mod update_login_profile;

pub use attach_policy_to_user::AttachPolicyToUser;
pub use change_password::ChangePassword;
pub use create_access_key::CreateAccessKey;
pub use create_login_profile::CreateLoginProfile;
pub use create_policy::CreatePolicy;
pub use create_user::CreateUser;
pub use delete_access_key::DeleteAccessKey;
pub use delete_login_profile::DeleteLoginProfile;
pub use delete_policy::DeletePolicy;
pub use delete_user::DeleteUser;
pub use detach_policy_from_user::DetachPolicyFromUser;
pub use get_login_profile::GetLoginProfile;
pub use get_policy::GetPolicy;
pub use get_user::GetUser;
pub use list_access_keys::ListAccessKeys;
pub use list_policies::ListPolicies;
pub use list_policies_for_user::ListPoliciesForUser;
pub use list_users::ListUsers;
pub use update_access_key::UpdateAccessKey;
pub use update_login_profile::UpdateLoginProfile;

use openkms_core::Field;
use openkms_core::model::PolicyType;
use openkms_core::service::ROOT_USER;
use openkms_core::{InvalidReason, KeyService, KmsError};

use crate::{Caller, Touch};

/// The ARN of a RAM user, as RAM policies name it.
pub fn user_arn(kms: &KeyService, user_name: &str) -> String {
    format!("acs:ram:*:{}:user/{user_name}", kms.account_id())
}

/// The ARN of a policy: custom ones in the account, system ones under `system`.
pub fn policy_arn(kms: &KeyService, policy_type: PolicyType, name: &str) -> String {
    let owner = match policy_type {
        PolicyType::System => "system",
        PolicyType::Custom => kms.account_id(),
    };
    format!("acs:ram:*:{owner}:policy/{name}")
}

/// The resource of account-wide RAM actions (listing users or policies).
pub fn account_arn(kms: &KeyService) -> String {
    format!("acs:ram:*:{}:*", kms.account_id())
}

/// A user, as a touch.
pub fn user_touch(kms: &KeyService, user_name: &str) -> Touch<'static> {
    Touch::resource(user_arn(kms, user_name))
}

/// A policy, as a touch.
pub fn policy_touch(kms: &KeyService, policy_type: PolicyType, name: &str) -> Touch<'static> {
    Touch::resource(policy_arn(kms, policy_type, name))
}

/// The user an AccessKey action names, or the caller's own when it names none (as RAM
/// does); `None` when neither (the root identity has no RAM user).
pub fn named_or_own<'a>(user: Option<&'a str>, caller: &'a Caller) -> Option<&'a str> {
    match user {
        Some(name) => Some(name),
        None if caller.user != ROOT_USER => Some(&caller.user),
        None => None,
    }
}

/// What an AccessKey action touches: its user (`*` when there is none, which only the root
/// identity, never checked, can send).
fn own_user_touch(kms: &KeyService, user: Option<&str>, caller: &Caller) -> Touch<'static> {
    user_touch(kms, named_or_own(user, caller).unwrap_or("*"))
}

/// The user an AccessKey action acts on. The root identity must name one: its absence is
/// `InvalidParameter { field: UserName, reason: Empty }` (a codec shows it as missing).
fn user_or_caller<'a>(user: Option<&'a str>, caller: &'a Caller) -> Result<&'a str, KmsError> {
    named_or_own(user, caller).ok_or(KmsError::invalid(Field::UserName, InvalidReason::Empty))
}

/// A window of a listing: at most `max` entries after the cursor `after` (the previous
/// page's `next`; from the first entry when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<C> {
    /// Where the page starts: just after this entry.
    pub after: Option<C>,
    /// Most entries to show.
    pub max: usize,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T, C> {
    /// The entries shown.
    pub items: Vec<T>,
    /// Where the next page starts (after the last entry shown), when there is more.
    pub next: Option<C>,
}

impl<T, C> Listed<T, C> {
    /// The page of `items`, followed by more when `more`, the next starting after the last
    /// item (its cursor by `cursor`).
    pub fn of((items, more): (Vec<T>, bool), cursor: impl Fn(&T) -> C) -> Self {
        let next = match more {
            true => items.last().map(cursor),
            false => None,
        };
        Self { items, next }
    }
}

/// A policy attachment as AttachPolicyToUser and DetachPolicyFromUser name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The user.
    pub user_name: String,
    /// System or Custom.
    pub policy_type: PolicyType,
    /// The policy.
    pub policy_name: String,
}

impl Attachment {
    /// The user and the policy.
    fn touches(&self, kms: &KeyService) -> Vec<Touch<'static>> {
        vec![
            user_touch(kms, &self.user_name),
            policy_touch(kms, self.policy_type, &self.policy_name),
        ]
    }
}
