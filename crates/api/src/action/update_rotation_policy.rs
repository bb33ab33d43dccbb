//! UpdateRotationPolicy: turn automatic rotation on (with an interval) or off.
//!
//! Parameters: `KeyId`, `EnableAutomaticRotation`, `RotationInterval` (`<n>d|h|m|s`, 7-365
//! days, required when enabling). Reply: `RequestId`.

use openkms_core::KeyService;

use super::spec::{self, ActionSpec, optional, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What UpdateRotationPolicy accepts.
pub const SPEC: ActionSpec = ActionSpec {
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

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key_id = common::key_id(service, params).await?;
    params.required("EnableAutomaticRotation")?;
    let interval = match params.bool_or("EnableAutomaticRotation", false)? {
        true => Some(super::create_key::rotation_interval(params)?),
        false => None,
    };
    service.update_rotation_policy(&key_id, interval).await?;
    Ok(common::empty())
}
