//! AttachPolicyToUser: grant a user a policy.
//!
//! Parameters: `PolicyType`, `PolicyName`, `UserName` (all required). Reply: just the
//! `RequestId`. The grant applies from the next request on this node.

use openkms_core::KeyService;

use crate::action::spec::ActionSpec;
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What AttachPolicyToUser accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Attach a policy to a RAM user",
    params: &super::ATTACHMENT_PARAMS,
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let (policy_type, name, user) = super::attachment(params)?;
    service.attach_policy(user, policy_type, name).await?;
    Ok(common::empty())
}
