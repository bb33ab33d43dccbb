//! The RAM actions on the Alibaba wire (version 2015-05-01), one codec file each, and the
//! pieces they share: the parameter tables, `PolicyType`, `Marker`/`MaxItems` paging (the
//! `Marker` an opaque keyset cursor: the last entry of the page before, see `codec::cursor`;
//! the offsets older builds wrote are refused as `InvalidParameter`), the
//! reply forms of users and policies, what an undecodable request is checked against, and
//! how the AccessKey actions report a missing user.
//!
//! An undecodable request is checked against what it would touch with its names unread:
//! every user (`user/*`), every custom policy (`policy/*`) or the account. The older path
//! read the names that were readable, so a caller allowed on one user or policy only, whose
//! request names it but has another parameter wrong, is now refused (`NoPermission`) where
//! it used to be told which parameter is wrong; a missing name was `*` there too.

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

use openkms_core::model::{PolicyRecord, PolicyType, UserRecord};
use openkms_core::service::PolicyView;
use openkms_core::{Field, InvalidReason, KmsError};
use openkms_ops::ram::{Attachment, Page};
use openkms_ops::{Call, Touch};
use serde::{Serialize, Serializer};

use crate::codec::lenient;
use crate::codec::spec::{self, ParamSpec};
use crate::rpc::{Params, RpcError, dates};

/// `Marker` and `MaxItems` as the CLI table lists them.
const MARKER_PARAMS: [ParamSpec; 2] = [
    spec::optional("Marker", "the Marker of the previous page"),
    spec::optional("MaxItems", "entries per page, 1-1000 (default 100)"),
];

/// `PolicyType` and `PolicyName`, as GetPolicy takes them.
const POLICY_REF: [ParamSpec; 2] = [
    spec::required("PolicyType", "System or Custom"),
    spec::required("PolicyName", "the policy's name"),
];

/// `PolicyType`, `PolicyName` and `UserName`, as the attachment actions take them.
const ATTACHMENT_PARAMS: [ParamSpec; 3] = [
    POLICY_REF[0],
    POLICY_REF[1],
    spec::required("UserName", "the user's name"),
];

/// `UserName` as the AccessKey actions take it.
const USER_OR_CALLER: ParamSpec = spec::optional("UserName", "the user (default: the caller)");

/// The `PolicyType` parameter, required.
fn policy_type(params: &Params) -> Result<PolicyType, RpcError> {
    PolicyType::parse(params.required("PolicyType")?).ok_or(RpcError::invalid("PolicyType"))
}

/// The attachment an AttachPolicyToUser or DetachPolicyFromUser request names.
fn attachment(params: &Params) -> Result<Attachment, RpcError> {
    Ok(Attachment {
        policy_type: policy_type(params)?,
        policy_name: params.required("PolicyName")?.to_owned(),
        user_name: params.required("UserName")?.to_owned(),
    })
}

/// What an undecodable AttachPolicyToUser or DetachPolicyFromUser request is checked
/// against: the user and the policy it names, as far as they can be read.
fn attachment_touches(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
    vec![
        lenient::user(params, call),
        lenient::policy(params, call, None),
    ]
}

/// The page `Marker` (an opaque keyset cursor, see `codec::cursor`) and `MaxItems` (1-1000,
/// default 100) ask for; `cursor` reads a marker's token (`None`: not one of this listing's).
fn page<C>(params: &Params, cursor: impl FnOnce(&str) -> Option<C>) -> Result<Page<C>, RpcError> {
    let after = match params.optional("Marker") {
        None => None,
        Some(m) => Some(cursor(m).ok_or(RpcError::invalid("Marker"))?),
    };
    let max: usize = match params.optional("MaxItems") {
        None => 100,
        Some(m) => m.parse().map_err(|_| RpcError::invalid("MaxItems"))?,
    };
    if !(1..=1000).contains(&max) {
        return Err(RpcError::invalid_because(
            "MaxItems",
            InvalidReason::OutOfRange,
        ));
    }
    Ok(Page { after, max })
}

/// `IsTruncated` and the next page's `Marker` (only when truncated), written by `marker`.
fn truncation<C>(next: Option<&C>, marker: impl FnOnce(&C) -> String) -> (bool, Option<String>) {
    (next.is_some(), next.map(marker))
}

/// The wire error of an AccessKey action: the root identity naming no user is told the
/// parameter is missing (the operation says its `UserName` is empty); the rest as for any
/// RAM action.
fn access_key_error(e: KmsError) -> RpcError {
    match e {
        KmsError::InvalidParameter {
            field: Field::UserName,
            reason: InvalidReason::Empty,
        } => RpcError::MissingParameter("UserName"),
        e => ram_error(e),
    }
}

/// RAM spells a policy refusal `NoPermission`; everything else maps as usual.
fn ram_error(e: KmsError) -> RpcError {
    match e {
        KmsError::Forbidden => RpcError::RamForbidden,
        e => RpcError::Kms(e),
    }
}

/// A date, written as `YYYY-MM-DDTHH:MM:SSZ`.
pub struct Date(i64);

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&dates::format(self.0))
    }
}

/// A user as CreateUser, GetUser and ListUsers show it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserShown<'a> {
    user_id: &'a str,
    user_name: &'a str,
    display_name: &'a str,
    mobile_phone: &'a str,
    email: &'a str,
    comments: &'a str,
    create_date: Date,
    /// The creation date (openkms users are not edited); CreateUser leaves it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    update_date: Option<Date>,
}

impl<'a> UserShown<'a> {
    /// The user as GetUser and ListUsers show it.
    fn of(u: &'a UserRecord) -> Self {
        Self {
            update_date: Some(Date(u.created_at)),
            ..Self::created(u)
        }
    }

    /// The user as CreateUser shows it (no `UpdateDate`).
    fn created(u: &'a UserRecord) -> Self {
        Self {
            user_id: &u.user_id,
            user_name: &u.user_name,
            display_name: &u.display_name,
            mobile_phone: &u.mobile_phone,
            email: &u.email,
            comments: &u.comments,
            create_date: Date(u.created_at),
            update_date: None,
        }
    }
}

/// Name, type, description, default version and creation date of a policy (CreatePolicy);
/// as listed it also has `UpdateDate` (the creation date) and `AttachmentCount`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyShown<'a> {
    policy_name: &'a str,
    policy_type: &'static str,
    description: &'a str,
    default_version: &'static str,
    create_date: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment_count: Option<usize>,
}

impl<'a> PolicyShown<'a> {
    /// A policy as GetPolicy and ListPolicies show it.
    fn of(view: &'a PolicyView) -> Self {
        Self {
            update_date: Some(Date(view.record.created_at)),
            attachment_count: Some(view.attachment_count),
            ..Self::summary(&view.record, view.policy_type)
        }
    }

    /// A policy as CreatePolicy shows it.
    fn summary(p: &'a PolicyRecord, policy_type: PolicyType) -> Self {
        Self {
            policy_name: &p.policy_name,
            policy_type: policy_type.as_str(),
            description: &p.description,
            default_version: "v1",
            create_date: Date(p.created_at),
            update_date: None,
            attachment_count: None,
        }
    }
}
