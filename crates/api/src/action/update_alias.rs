//! UpdateAlias: point an existing alias at another key.
//!
//! Parameters: `AliasName`, `KeyId`. Reply: `RequestId`. A target key pending deletion is
//! refused with `Rejected.PendingDeletion` (§4.4).

use openkms_core::KeyService;

use super::spec::{ActionSpec, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What UpdateAlias accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Point an alias at another key",
    params: &[
        required("AliasName", "the alias to change"),
        required("KeyId", "the key it will point at"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let name = params.required("AliasName")?;
    let key = service.parse_key_ref(params.required("KeyId")?)?;
    service.update_alias(name, &key).await?;
    Ok(common::empty())
}
