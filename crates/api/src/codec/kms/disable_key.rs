//! DisableKey on the wire: the key refuses Encrypt, Decrypt and the other cryptographic
//! operations from the next request on, until enabled again.
//!
//! Parameters: `KeyId`. Reply: `RequestId`.

use openkms_core::{KeyRecord, KeyService};
use openkms_ops::kms::DisableKey;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for DisableKey {
    const SPEC: ActionSpec = ActionSpec {
        about: "Disable a key (it refuses cryptographic operations)",
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
