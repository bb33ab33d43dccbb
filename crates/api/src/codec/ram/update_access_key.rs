//! UpdateAccessKey on the wire.
//!
//! Parameters: `UserAccessKeyId` and `Status` (`Active` or `Inactive`), both required;
//! `UserName` (the caller's own user when absent). Reply: just the `RequestId`.

use crate::codec::lenient;
use openkms_core::{KeyService, KmsError};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::UpdateAccessKey;

use super::{USER_OR_CALLER, access_key_error};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for UpdateAccessKey {
    const SPEC: ActionSpec = ActionSpec {
        about: "Activate or deactivate a RAM user's AccessKey",
        params: &[
            required("UserAccessKeyId", "the AccessKeyId"),
            required("Status", "Active or Inactive"),
            USER_OR_CALLER,
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let access_key_id = params.required("UserAccessKeyId")?.to_owned();
        let active = match params.required("Status")? {
            "Active" => true,
            "Inactive" => false,
            _ => return Err(RpcError::invalid("Status")),
        };
        let user = params.optional("UserName").map(str::to_owned);
        Ok(Self {
            access_key_id,
            active,
            user,
        })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::own_user(params, call)]
    }

    fn error(e: KmsError) -> RpcError {
        access_key_error(e)
    }
}
