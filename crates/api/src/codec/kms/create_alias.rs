//! CreateAlias (§6.2) on the wire: give a key a name such as `alias/Apollo/WorkKey`.
//!
//! Parameters: `AliasName` and `KeyId` (both required). Reply: just the `RequestId`.

use crate::codec::lenient;
use openkms_core::{KeyRef, KeyService};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::CreateAlias;

use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for CreateAlias {
    const SPEC: ActionSpec = ActionSpec {
        about: "Give a key an alias such as alias/Apollo/WorkKey",
        params: &[
            required("AliasName", "alias/ followed by 1-255 of A-Za-z0-9_/-"),
            required("KeyId", "the key id or ARN the alias points at"),
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

/// The required `AliasName` and the key `KeyId` names (also UpdateAlias's).
pub(super) fn alias_and_key(
    params: &Params,
    kms: &KeyService,
) -> Result<(String, KeyRef), RpcError> {
    let name = params.required("AliasName")?.to_owned();
    let key = kms.parse_key_ref(params.required("KeyId")?)?;
    Ok((name, key))
}

/// What an undecodable alias request is checked against: the key `KeyId` names and the
/// alias (also UpdateAlias's).
pub(super) fn alias_and_key_touches(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
    vec![
        lenient::key(params, call, "KeyId", None),
        lenient::alias(params, call),
    ]
}
