//! The RAM actions (OpenAPI version 2015-05-01) openkms serves: users, their AccessKeys,
//! custom policies and attachments, one module each.
//!
//! They are dispatched like the KMS actions, selected by `Version=2015-05-01`. Shared pieces
//! live here: the JSON forms of users and policies, `PolicyType`, `Marker`/`MaxItems` paging
//! and the resource ARNs that authorization checks.

pub mod attach_policy_to_user;
pub mod create_access_key;
pub mod create_policy;
pub mod create_user;
pub mod delete_access_key;
pub mod delete_policy;
pub mod delete_user;
pub mod detach_policy_from_user;
pub mod get_policy;
pub mod get_user;
pub mod list_access_keys;
pub mod list_policies;
pub mod list_policies_for_user;
pub mod list_users;
pub mod update_access_key;

use openkms_core::model::{PolicyRecord, PolicyType, UserRecord};
use openkms_core::service::PolicyView;
use openkms_core::{KeyService, KmsError};
use serde_json::{Map, Value, json};

use super::spec::{self, ParamSpec};
use crate::auth::Caller;
use crate::rpc::{Params, RpcError, dates};

/// The RAM API version.
pub const RAM_VERSION: &str = "2015-05-01";

/// `Marker` and `MaxItems` as the CLI table lists them.
pub const MARKER_PARAMS: [ParamSpec; 2] = [
    spec::optional("Marker", "the Marker of the previous page"),
    spec::optional("MaxItems", "entries per page, 1-1000 (default 100)"),
];

/// `PolicyType` and `PolicyName`, as the attachment actions take them.
pub const POLICY_REF: [ParamSpec; 2] = [
    spec::required("PolicyType", "System or Custom"),
    spec::required("PolicyName", "the policy's name"),
];

/// `PolicyType`, `PolicyName` and `UserName`, as the attachment actions take them.
pub const ATTACHMENT_PARAMS: [ParamSpec; 3] = [
    POLICY_REF[0],
    POLICY_REF[1],
    spec::required("UserName", "the user's name"),
];

/// The attachment an AttachPolicyToUser or DetachPolicyFromUser request names: type, policy
/// name and user name.
pub fn attachment(params: &Params) -> Result<(PolicyType, &str, &str), RpcError> {
    Ok((
        policy_type(params)?,
        params.required("PolicyName")?,
        params.required("UserName")?,
    ))
}

/// The JSON form of a user, as GetUser and ListUsers show it (`UpdateDate` is the creation
/// date: openkms users are not edited).
pub fn user(u: &UserRecord) -> Value {
    let created = dates::format(u.created_at);
    json!({
        "UserId": u.user_id,
        "UserName": u.user_name,
        "DisplayName": u.display_name,
        "MobilePhone": u.mobile_phone,
        "Email": u.email,
        "Comments": u.comments,
        "CreateDate": created,
        "UpdateDate": created,
    })
}

/// The JSON form of a policy as listed (no document).
pub fn policy(view: &PolicyView) -> Value {
    let mut v = policy_summary(&view.record, view.policy_type);
    v["UpdateDate"] = v["CreateDate"].clone();
    v["AttachmentCount"] = view.attachment_count.into();
    v
}

/// Name, type, description, default version and creation date of a policy.
pub fn policy_summary(p: &PolicyRecord, policy_type: PolicyType) -> Value {
    json!({
        "PolicyName": p.policy_name,
        "PolicyType": policy_type.as_str(),
        "Description": p.description,
        "DefaultVersion": "v1",
        "CreateDate": dates::format(p.created_at),
    })
}

/// The `PolicyType` parameter, required.
pub fn policy_type(params: &Params) -> Result<PolicyType, RpcError> {
    PolicyType::parse(params.required("PolicyType")?).ok_or(RpcError::invalid("PolicyType"))
}

/// The `UserName` parameter, or the caller's own name when absent (as RAM does for the
/// AccessKey actions); the root identity has no RAM user, so it must name one.
pub fn user_or_caller<'a>(params: &'a Params, caller: &'a Caller) -> Result<&'a str, RpcError> {
    match params.optional("UserName") {
        Some(name) => Ok(name),
        None if caller.user != openkms_core::service::ROOT_USER => Ok(&caller.user),
        None => Err(RpcError::MissingParameter("UserName")),
    }
}

/// One page of `items` by `Marker` (an offset, opaque to clients) and `MaxItems`, in the
/// shape `{Outer:{Inner:[…]},"IsTruncated":…,"Marker":…}` (Marker only when truncated).
pub fn marker_page<T>(
    params: &Params,
    items: &[T],
    (outer, inner): (&str, &str),
    render: impl Fn(&T) -> Value,
) -> Result<Map<String, Value>, RpcError> {
    let start: usize = match params.optional("Marker") {
        None => 0,
        Some(m) => m.parse().map_err(|_| RpcError::invalid("Marker"))?,
    };
    let max: usize = match params.optional("MaxItems") {
        None => 100,
        Some(m) => m.parse().map_err(|_| RpcError::invalid("MaxItems"))?,
    };
    if !(1..=1000).contains(&max) {
        let reason = openkms_core::InvalidReason::OutOfRange;
        return Err(KmsError::invalid("MaxItems", reason).into());
    }
    let shown: Vec<Value> = items.iter().skip(start).take(max).map(render).collect();
    let next = start.saturating_add(max);
    let mut m = Map::new();
    m.insert(outer.into(), json!({ inner: shown }));
    m.insert("IsTruncated".into(), (next < items.len()).into());
    if next < items.len() {
        m.insert("Marker".into(), next.to_string().into());
    }
    Ok(m)
}

/// The ARN of a RAM user, as RAM policies name it.
pub fn user_arn(service: &KeyService, user_name: &str) -> String {
    format!("acs:ram:*:{}:user/{user_name}", service.account_id())
}

/// The ARN of a policy: custom ones in the account, system ones under `system`.
pub fn policy_arn(service: &KeyService, policy_type: PolicyType, name: &str) -> String {
    let owner = match policy_type {
        PolicyType::System => "system",
        PolicyType::Custom => service.account_id(),
    };
    format!("acs:ram:*:{owner}:policy/{name}")
}

/// The resource of account-wide RAM actions (listing users or policies).
pub fn account_arn(service: &KeyService) -> String {
    format!("acs:ram:*:{}:*", service.account_id())
}
