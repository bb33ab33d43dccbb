//! DeleteAccessKey: remove a RAM user's AccessKey.
//!
//! Parameters: `UserAccessKeyId` (required), `UserName` (the caller's own user when absent).
//! Reply: just the `RequestId`.

use openkms_core::KeyService;

use crate::action::spec::{ActionSpec, optional, required};
use crate::action::{Fields, common};
use crate::auth::Caller;
use crate::rpc::{Params, RpcError};

/// What DeleteAccessKey accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Delete a RAM user's AccessKey",
    params: &[
        required("UserAccessKeyId", "the AccessKeyId"),
        optional("UserName", "the user (default: the caller)"),
    ],
};

/// Parses, applies and replies.
pub async fn run(
    service: &KeyService,
    caller: &Caller,
    params: &Params,
) -> Result<Fields, RpcError> {
    let id = params.required("UserAccessKeyId")?;
    let user = super::user_or_caller(params, caller)?;
    service.delete_access_key(user, id).await?;
    Ok(common::empty())
}
