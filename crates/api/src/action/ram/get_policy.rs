//! GetPolicy: one policy with its document.
//!
//! Parameters: `PolicyName` and `PolicyType` (required). Reply: `Policy` (as ListPolicies
//! shows it) and `DefaultPolicyVersion` with `VersionId` (`v1`), `IsDefaultVersion`,
//! `CreateDate` and `PolicyDocument`.

use openkms_core::KeyService;
use serde_json::json;

use crate::action::spec::ActionSpec;
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError, dates};

/// What GetPolicy accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Show a RAM policy and its document",
    params: &super::POLICY_REF,
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let policy_type = super::policy_type(params)?;
    let view = service
        .get_policy(policy_type, params.required("PolicyName")?)
        .await?;
    Ok(common::fields(json!({
        "Policy": super::policy(&view),
        "DefaultPolicyVersion": {
            "VersionId": "v1",
            "IsDefaultVersion": true,
            "CreateDate": dates::format(view.record.created_at),
            "PolicyDocument": view.record.document,
        },
    })))
}
