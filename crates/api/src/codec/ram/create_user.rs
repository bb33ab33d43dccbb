//! CreateUser on the wire.
//!
//! Parameters: `UserName` (required), `DisplayName`, `MobilePhone`, `Email`, `Comments`.
//! Reply: `User` with `UserId`, `UserName`, `DisplayName`, `MobilePhone`, `Email`,
//! `Comments`, `CreateDate`.

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_core::model::UserRecord;
use openkms_core::service::NewUser;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::CreateUser;
use serde::Serialize;

use super::UserShown;
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::rpc::{Params, RpcError};

/// CreateUser's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Created<'a> {
    user: UserShown<'a>,
}

impl Wire for CreateUser {
    const SPEC: ActionSpec = ActionSpec {
        about: "Create a RAM user",
        params: &[
            required("UserName", "1-64 of A-Za-z0-9.@-_"),
            optional("DisplayName", "up to 128 characters"),
            optional("MobilePhone", "a phone number"),
            optional("Email", "an email address"),
            optional("Comments", "up to 128 characters"),
        ],
    };
    type Reply<'a> = Created<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let text = |name: &str| params.optional(name).unwrap_or_default().to_owned();
        let user = NewUser {
            user_name: params.required("UserName")?.to_owned(),
            display_name: text("DisplayName"),
            mobile_phone: text("MobilePhone"),
            email: text("Email"),
            comments: text("Comments"),
        };
        Ok(Self { user })
    }

    fn encode<'a>(user: &'a UserRecord, _: &KeyService) -> Result<Created<'a>, RpcError> {
        Ok(Created {
            user: UserShown::created(user),
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::user(params, call)]
    }
}
