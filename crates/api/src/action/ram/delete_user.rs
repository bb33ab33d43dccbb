//! DeleteUser: remove a RAM user that owns no AccessKey and holds no policy.
//!
//! Parameters: `UserName` (required). Reply: just the `RequestId`.

use openkms_core::KeyService;

use crate::action::spec::{ActionSpec, required};
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What DeleteUser accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Delete a RAM user (delete its AccessKeys and detach its policies first)",
    params: &[required("UserName", "the user's name")],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    service.delete_user(params.required("UserName")?).await?;
    Ok(common::empty())
}
