//! UpdateAccessKey: activate or deactivate a RAM user's AccessKey.
//!
//! Parameters: `UserAccessKeyId` and `Status` (`Active` or `Inactive`), both required;
//! `UserName` (the caller's own user when absent). Reply: just the `RequestId`. An inactive
//! key's requests are refused with `Forbidden.AccessKeyDisabled` from the next request on
//! this node.

use openkms_core::KeyService;

use crate::action::spec::{ActionSpec, optional, required};
use crate::action::{Fields, common};
use crate::auth::Caller;
use crate::rpc::{Params, RpcError};

/// What UpdateAccessKey accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Activate or deactivate a RAM user's AccessKey",
    params: &[
        required("UserAccessKeyId", "the AccessKeyId"),
        required("Status", "Active or Inactive"),
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
    let active = match params.required("Status")? {
        "Active" => true,
        "Inactive" => false,
        _ => return Err(RpcError::invalid("Status")),
    };
    let user = super::user_or_caller(params, caller)?;
    service.set_access_key_active(user, id, active).await?;
    Ok(common::empty())
}
