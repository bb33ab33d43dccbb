//! DeleteUser on the wire.
//!
//! Parameters: `UserName` (required). Reply: just the `RequestId`.

use openkms_core::KeyService;
use openkms_ops::Touch;
use openkms_ops::ram::DeleteUser;

use super::{Done, any_user};
use crate::action::spec::{ActionSpec, required};
use crate::codec::Wire;
use crate::rpc::{Params, RpcError};

impl Wire for DeleteUser {
    const SPEC: ActionSpec = ActionSpec {
        about: "Delete a RAM user (delete its AccessKeys and detach its policies first)",
        params: &[required("UserName", "the user's name")],
    };
    type Reply<'a> = Done;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let user_name = params.required("UserName")?.to_owned();
        Ok(Self { user_name })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Done, RpcError> {
        Ok(Done {})
    }

    fn fallback(kms: &KeyService) -> Vec<Touch<'static>> {
        any_user(kms)
    }
}
