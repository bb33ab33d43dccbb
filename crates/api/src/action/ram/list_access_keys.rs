//! ListAccessKeys: a RAM user's AccessKeys, without secrets.
//!
//! Parameters: `UserName` (the caller's own user when absent). Reply:
//! `AccessKeys.AccessKey[]` of `AccessKeyId`, `Status`, `CreateDate`.

use openkms_core::KeyService;
use serde_json::json;

use crate::action::spec::{ActionSpec, optional};
use crate::action::{Fields, common};
use crate::auth::Caller;
use crate::rpc::{Params, RpcError, dates};

/// What ListAccessKeys accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "List a RAM user's AccessKeys",
    params: &[optional("UserName", "the user (default: the caller)")],
};

/// Parses, applies and replies.
pub async fn run(
    service: &KeyService,
    caller: &Caller,
    params: &Params,
) -> Result<Fields, RpcError> {
    let user = super::user_or_caller(params, caller)?;
    let keys: Vec<_> = service
        .list_access_keys(user)
        .await?
        .iter()
        .map(|k| {
            json!({
                "AccessKeyId": k.access_key_id,
                "Status": status(k.active),
                "CreateDate": dates::format(k.created_at),
            })
        })
        .collect();
    Ok(common::fields(
        json!({ "AccessKeys": { "AccessKey": keys } }),
    ))
}

/// The API name of an AccessKey's state.
pub fn status(active: bool) -> &'static str {
    match active {
        true => "Active",
        false => "Inactive",
    }
}
