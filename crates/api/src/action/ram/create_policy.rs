//! CreatePolicy: a custom policy from a policy document.
//!
//! Parameters: `PolicyName` and `PolicyDocument` (required), `Description`. Reply: `Policy`
//! with `PolicyName`, `PolicyType` (`Custom`), `Description`, `DefaultVersion` (`v1`),
//! `CreateDate`. A document the policy engine refuses is `MalformedPolicyDocument`.

use openkms_core::KeyService;
use openkms_core::model::PolicyType;
use serde_json::json;

use crate::action::spec::{ActionSpec, optional, required};
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What CreatePolicy accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Create a custom RAM policy",
    params: &[
        required("PolicyName", "1-128 of A-Za-z0-9-"),
        required("PolicyDocument", "the policy JSON, up to 6144 bytes"),
        optional("Description", "up to 1024 characters"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let name = params.required("PolicyName")?;
    let document = params.required("PolicyDocument")?;
    let description = params.optional("Description").unwrap_or_default();
    let policy = service.create_policy(name, document, description).await?;
    let shown = super::policy_summary(&policy, PolicyType::Custom);
    Ok(common::fields(json!({ "Policy": shown })))
}
