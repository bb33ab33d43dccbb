//! ListAccessKeys on the wire.
//!
//! Parameters: `UserName` (the caller's own user when absent). Reply:
//! `AccessKeys.AccessKey[]` of `AccessKeyId`, `Status`, `CreateDate` (never a secret).

use crate::codec::lenient;
use openkms_core::model::AccessKeyRecord;
use openkms_core::{KeyService, KmsError};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::ListAccessKeys;
use serde::Serialize;

use super::{Date, USER_OR_CALLER, access_key_error};
use crate::codec::Wire;
use crate::codec::spec::ActionSpec;
use crate::rpc::{Params, RpcError};

/// ListAccessKeys' reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Listed<'a> {
    access_keys: AccessKeys<'a>,
}

/// The `{"AccessKey":[…]}` wrapper.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeys<'a> {
    access_key: Vec<KeyShown<'a>>,
}

/// One AccessKey.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyShown<'a> {
    access_key_id: &'a str,
    status: &'static str,
    create_date: Date,
}

impl<'a> KeyShown<'a> {
    fn of(k: &'a AccessKeyRecord) -> Self {
        Self {
            access_key_id: &k.access_key_id,
            status: status(k.active),
            create_date: Date(k.created_at),
        }
    }
}

/// The API name of an AccessKey's state.
fn status(active: bool) -> &'static str {
    match active {
        true => "Active",
        false => "Inactive",
    }
}

impl Wire for ListAccessKeys {
    const SPEC: ActionSpec = ActionSpec {
        about: "List a RAM user's AccessKeys",
        params: &[USER_OR_CALLER],
    };
    type Reply<'a> = Listed<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let user = params.optional("UserName").map(str::to_owned);
        Ok(Self { user })
    }

    fn encode<'a>(keys: &'a Vec<AccessKeyRecord>, _: &KeyService) -> Result<Listed<'a>, RpcError> {
        let access_key = keys.iter().map(KeyShown::of).collect();
        Ok(Listed {
            access_keys: AccessKeys { access_key },
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::own_user(params, call)]
    }

    fn error(e: KmsError) -> RpcError {
        access_key_error(e)
    }
}
