//! UpdateAlias on the wire: point an existing alias at another key.
//!
//! Parameters: `AliasName`, `KeyId`. Reply: `RequestId`. A target key pending deletion is
//! refused with `Rejected.PendingDeletion` (§4.4).

use openkms_core::KeyService;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::UpdateAlias;

use super::create_alias::{alias_and_key, alias_and_key_touches};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for UpdateAlias {
    const SPEC: ActionSpec = ActionSpec {
        about: "Point an alias at another key",
        params: &[
            required("AliasName", "the alias to change"),
            required("KeyId", "the key it will point at"),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let (name, key) = alias_and_key(params, kms)?;
        Ok(Self { name, key })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        alias_and_key_touches(params, call)
    }
}
