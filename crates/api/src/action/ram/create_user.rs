//! CreateUser: a new RAM user.
//!
//! Parameters: `UserName` (required), `DisplayName`, `MobilePhone`, `Email`, `Comments`.
//! Reply: `User` with `UserId`, `UserName`, `DisplayName`, `MobilePhone`, `Email`,
//! `Comments`, `CreateDate`.

use openkms_core::KeyService;
use openkms_core::service::NewUser;
use serde_json::json;

use crate::action::spec::{ActionSpec, optional, required};
use crate::action::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What CreateUser accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Create a RAM user",
    params: &[
        required("UserName", "1-64 of A-Za-z0-9.@-_"),
        optional("DisplayName", "up to 128 characters"),
        optional("MobilePhone", "a phone number"),
        optional("Email", "an email address"),
        optional("Comments", "up to 128 characters"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let text = |name: &str| params.optional(name).unwrap_or_default().to_owned();
    let input = NewUser {
        user_name: params.required("UserName")?.to_owned(),
        display_name: text("DisplayName"),
        mobile_phone: text("MobilePhone"),
        email: text("Email"),
        comments: text("Comments"),
    };
    let user = service.create_user(input).await?;
    let mut shown = super::user(&user);
    if let Some(m) = shown.as_object_mut() {
        m.remove("UpdateDate");
    }
    Ok(common::fields(json!({ "User": shown })))
}
