//! UpdateKeyDescription on the wire: replace a key's description.
//!
//! Parameters: `KeyId`, `Description` (may be empty). Reply: `RequestId`.

use openkms_core::{KeyRecord, KeyService};
use openkms_ops::kms::UpdateKeyDescription;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for UpdateKeyDescription {
    const SPEC: ActionSpec = ActionSpec {
        about: "Change a key's description",
        params: &[
            spec::KEY_ID,
            required("Description", "the new description, up to 8192 characters"),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let description = params
            .get("Description")
            .ok_or(RpcError::MissingParameter("Description"))?;
        Ok(Self {
            key,
            description: description.to_owned(),
        })
    }

    fn encode(_: &KeyRecord, _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }
}
