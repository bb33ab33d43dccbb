//! SetDeletionProtection on the wire: protect a key against scheduled deletion, or lift the
//! protection.
//!
//! Parameters: `ProtectedResourceArn` (the key's ARN), `EnableDeletionProtection`,
//! `DeletionProtectionDescription`. Reply: `RequestId`.

use crate::codec::lenient;
use openkms_core::{KeyRecord, KeyService};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::SetDeletionProtection;

use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for SetDeletionProtection {
    const SPEC: ActionSpec = ActionSpec {
        about: "Turn a key's deletion protection on or off",
        params: &[
            required("ProtectedResourceArn", "the key ARN"),
            required("EnableDeletionProtection", "true or false"),
            optional("DeletionProtectionDescription", "why the key is protected"),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("ProtectedResourceArn")?)?;
        params.required("EnableDeletionProtection")?;
        let protection = match params.bool_or("EnableDeletionProtection", false)? {
            true => Some(
                params
                    .get("DeletionProtectionDescription")
                    .unwrap_or("")
                    .to_owned(),
            ),
            false => None,
        };
        Ok(Self { key, protection })
    }

    fn encode(_: &KeyRecord, _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::key(params, call, "ProtectedResourceArn", None)]
    }
}
