//! GetUser on the wire.
//!
//! Parameters: `UserName` (required). Reply: `User` with the CreateUser fields plus
//! `UpdateDate` (openkms users are not edited, so it is the creation date).

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_core::model::UserRecord;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::GetUser;
use serde::Serialize;

use super::UserShown;
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, required};
use crate::rpc::{Params, RpcError};

/// GetUser's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shown<'a> {
    user: UserShown<'a>,
}

impl Wire for GetUser {
    const SPEC: ActionSpec = ActionSpec {
        about: "Show a RAM user",
        params: &[required("UserName", "the user's name")],
    };
    type Reply<'a> = Shown<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let user_name = params.required("UserName")?.to_owned();
        Ok(Self { user_name })
    }

    fn encode<'a>(user: &'a UserRecord, _: &KeyService) -> Result<Shown<'a>, RpcError> {
        Ok(Shown {
            user: UserShown::of(user),
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::user(params, call)]
    }
}
