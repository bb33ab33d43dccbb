//! DeletePolicy: remove a custom policy attached to nobody.
//!
//! Parameters: `PolicyName` (required). Reply: just the `RequestId`.

use openkms_core::KeyService;

use crate::action::spec::{ActionSpec, required};
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What DeletePolicy accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Delete a custom RAM policy (detach it from every user first)",
    params: &[required("PolicyName", "the policy's name")],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    service
        .delete_policy(params.required("PolicyName")?)
        .await?;
    Ok(common::empty())
}
