//! CreateAccessKey: a new AccessKey pair for a RAM user; the only time its secret is shown.
//!
//! Parameters: `UserName` (the caller's own user when absent). Reply: `AccessKey` with
//! `AccessKeyId`, `AccessKeySecret`, `Status` (`Active`), `CreateDate`.

use openkms_core::KeyService;
use serde_json::json;

use crate::action::spec::{ActionSpec, optional};
use crate::action::{Fields, common};
use crate::auth::Caller;
use crate::rpc::{Params, RpcError, dates};

/// What CreateAccessKey accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Create an AccessKey for a RAM user (the secret is shown only now)",
    params: &[optional("UserName", "the user (default: the caller)")],
};

/// Parses, applies and replies.
pub async fn run(
    service: &KeyService,
    caller: &Caller,
    params: &Params,
) -> Result<Fields, RpcError> {
    let user = super::user_or_caller(params, caller)?;
    let key = service.create_access_key(user).await?;
    let secret = std::str::from_utf8(key.secret.expose_secret())
        .map_err(|_| RpcError::Kms(openkms_core::KmsError::Corrupt))?;
    Ok(common::fields(json!({
        "AccessKey": {
            "AccessKeyId": key.record.access_key_id,
            "AccessKeySecret": secret,
            "Status": "Active",
            "CreateDate": dates::format(key.record.created_at),
        }
    })))
}
