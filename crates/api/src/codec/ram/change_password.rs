//! ChangePassword on the wire.
//!
//! Parameters: `OldPassword`, `NewPassword` (both required). Reply: just the `RequestId`.

use openkms_core::{KeyService, SecretBytes};
use openkms_ops::ram::ChangePassword;
use openkms_ops::{Call, Touch};

use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for ChangePassword {
    const SPEC: ActionSpec = ActionSpec {
        about: "Change your own console password",
        params: &[
            required("OldPassword", "the current password"),
            required("NewPassword", "8-32 characters"),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let secret = |p: &str| SecretBytes::new(p.as_bytes().to_vec());
        Ok(Self {
            old: secret(params.required("OldPassword")?),
            new: secret(params.required("NewPassword")?),
        })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }

    fn fallback(_: &Params, _: &Call<'_>) -> Vec<Touch<'static>> {
        Vec::new()
    }
}
