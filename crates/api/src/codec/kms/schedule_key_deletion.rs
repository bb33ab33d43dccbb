//! ScheduleKeyDeletion on the wire: destroy a key after a waiting period of 7 to 366 days.
//!
//! Parameters: `KeyId`, `PendingWindowInDays`. Reply: `RequestId`. A key with deletion
//! protection is refused. When the window ends the server destroys the key and its material.

use openkms_core::{KeyRecord, KeyService};
use openkms_ops::kms::ScheduleKeyDeletion;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for ScheduleKeyDeletion {
    const SPEC: ActionSpec = ActionSpec {
        about: "Schedule a key's destruction after 7-366 days",
        params: &[
            spec::KEY_ID,
            required("PendingWindowInDays", "days until destruction, 7-366"),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let days = params.required("PendingWindowInDays")?;
        let days: i64 = days
            .parse()
            .map_err(|_| RpcError::invalid("PendingWindowInDays"))?;
        Ok(Self { key, days })
    }

    fn encode(_: &KeyRecord, _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }
}
