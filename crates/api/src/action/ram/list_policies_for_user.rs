//! ListPoliciesForUser: the policies attached to a user.
//!
//! Parameters: `UserName` (required). Reply: `Policies.Policy[]` of `PolicyName`,
//! `PolicyType`, `Description`, `DefaultVersion`, `AttachDate` (no paging, as in RAM).

use openkms_core::KeyService;
use serde_json::json;

use crate::action::spec::{ActionSpec, required};
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError, dates};

/// What ListPoliciesForUser accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "List the policies attached to a RAM user",
    params: &[required("UserName", "the user's name")],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let attached = service
        .list_policies_for_user(params.required("UserName")?)
        .await?;
    let policies: Vec<_> = attached
        .iter()
        .map(|p| {
            json!({
                "PolicyName": p.attachment.policy_name,
                "PolicyType": p.attachment.policy_type.as_str(),
                "Description": p.description,
                "DefaultVersion": "v1",
                "AttachDate": dates::format(p.attachment.attached_at),
            })
        })
        .collect();
    Ok(common::fields(
        json!({ "Policies": { "Policy": policies } }),
    ))
}
