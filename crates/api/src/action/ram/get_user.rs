//! GetUser: one RAM user.
//!
//! Parameters: `UserName` (required). Reply: `User` with the CreateUser fields plus
//! `UpdateDate` (openkms users are not edited, so it is the creation date).

use openkms_core::KeyService;
use serde_json::json;

use crate::action::spec::{ActionSpec, required};
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What GetUser accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Show a RAM user",
    params: &[required("UserName", "the user's name")],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let user = service.get_user(params.required("UserName")?).await?;
    Ok(common::fields(json!({ "User": super::user(&user) })))
}
