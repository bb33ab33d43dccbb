//! UpdateRotationPolicy on the wire: turn automatic rotation on (with an interval) or off.
//!
//! Parameters: `KeyId`, `EnableAutomaticRotation`, `RotationInterval` (`<n>d|h|m|s`, 7-365
//! days, required when enabling). Reply: `RequestId`.

use openkms_core::{KeyRecord, KeyService};
use openkms_ops::kms::UpdateRotationPolicy;

use super::create_key::rotation_interval;
use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, optional, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for UpdateRotationPolicy {
    const SPEC: ActionSpec = ActionSpec {
        about: "Set a key's automatic rotation",
        params: &[
            spec::KEY_ID,
            required("EnableAutomaticRotation", "true or false"),
            optional(
                "RotationInterval",
                "such as 365d; 7 to 365 days; required when enabling",
            ),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        params.required("EnableAutomaticRotation")?;
        let interval = match params.bool_or("EnableAutomaticRotation", false)? {
            true => Some(rotation_interval(params)?),
            false => None,
        };
        Ok(Self { key, interval })
    }

    fn encode(_: &KeyRecord, _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }
}
