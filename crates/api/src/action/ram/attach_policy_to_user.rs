//! AttachPolicyToUser: grant a user a policy.
//!
//! Parameters: `PolicyType`, `PolicyName`, `UserName` (all required). Reply: just the
//! `RequestId`. The grant applies from the next request on this node.

use openkms_core::KeyService;

use crate::action::spec::{ActionSpec, required};
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What AttachPolicyToUser accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Attach a policy to a RAM user",
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
    service.attach_policy(user, policy_type, name).await?;
    Ok(common::empty())
}
