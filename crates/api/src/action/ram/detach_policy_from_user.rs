//! DetachPolicyFromUser: take a policy away from a user.
//!
//! Parameters: `PolicyType`, `PolicyName`, `UserName` (all required). Reply: just the
//! `RequestId`.

use openkms_core::KeyService;

use crate::action::spec::ActionSpec;
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What DetachPolicyFromUser accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Detach a policy from a RAM user",
    params: &super::ATTACHMENT_PARAMS,
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let (policy_type, name, user) = super::attachment(params)?;
    service.detach_policy(user, policy_type, name).await?;
    Ok(common::empty())
}
