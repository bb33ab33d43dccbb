//! DeleteKeyMaterial (next-surfaces §4.5) on the wire.
//!
//! Parameters: `KeyId`. Reply: `RequestId`. The key becomes `PendingImport` unless it is
//! pending deletion; the same material may be imported again.

use openkms_core::KeyService;
use openkms_ops::kms::DeleteKeyMaterial;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for DeleteKeyMaterial {
    const SPEC: ActionSpec = ActionSpec {
        about: "Delete the imported material of an EXTERNAL key (BYOK)",
        params: &[spec::KEY_ID],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        Ok(Self { key })
    }

    fn encode(_: &String, _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }
}
