//! CancelKeyDeletion on the wire: a key pending deletion returns to Enabled.
//!
//! Parameters: `KeyId`. Reply: `RequestId`.

use openkms_core::{KeyRecord, KeyService};
use openkms_ops::kms::CancelKeyDeletion;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for CancelKeyDeletion {
    const SPEC: ActionSpec = ActionSpec {
        about: "Cancel a key's scheduled deletion",
        params: &[spec::KEY_ID],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        Ok(Self { key })
    }

    fn encode(_: &KeyRecord, _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }
}
