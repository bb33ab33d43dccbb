//! DeleteLoginProfile on the wire.
//!
//! Parameters: `UserName` (required). Reply: just the `RequestId`.

use openkms_core::KeyService;
use openkms_ops::ram::DeleteLoginProfile;
use openkms_ops::{Call, Touch};

use crate::codec::Wire;
use crate::codec::lenient;
use crate::codec::spec::{ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for DeleteLoginProfile {
    const SPEC: ActionSpec = ActionSpec {
        about: "Take a RAM user's console password away",
        params: &[required("UserName", "the user's name")],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let user_name = params.required("UserName")?.to_owned();
        Ok(Self { user_name })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::user(params, call)]
    }
}
