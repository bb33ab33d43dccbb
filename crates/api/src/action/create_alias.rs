//! CreateAlias (§6.2): give a key a name such as `alias/Apollo/WorkKey`.
//!
//! Parameters: `AliasName` and `KeyId` (both required). Reply: just the `RequestId`.

use openkms_core::KeyService;

use super::spec::{ActionSpec, required};
use super::{Fields, common};

use crate::rpc::{Params, RpcError};

/// What CreateAlias accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Give a key an alias such as alias/Apollo/WorkKey",
    params: &[
        required("AliasName", "alias/ followed by 1-255 of A-Za-z0-9_/-"),
        required("KeyId", "the key id or ARN the alias points at"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let name = params.required("AliasName")?;
    let key = service.parse_key_ref(params.required("KeyId")?)?;
    service.create_alias(name, &key).await?;
    Ok(common::empty())
}
