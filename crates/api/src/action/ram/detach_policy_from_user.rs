//! DetachPolicyFromUser: take a policy away from a user.
//!
//! Parameters: `PolicyType`, `PolicyName`, `UserName` (all required). Reply: just the
//! `RequestId`.

use openkms_core::KeyService;

use crate::action::spec::{ActionSpec, required};
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What DetachPolicyFromUser accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Detach a policy from a RAM user",
    params: &[
        super::POLICY_REF[0],
        super::POLICY_REF[1],
        required("UserName", "the user's name"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let policy_type = super::policy_type(params)?;
    let name = params.required("PolicyName")?;
    let user = params.required("UserName")?;
    service.detach_policy(user, policy_type, name).await?;
    Ok(common::empty())
}
