//! CreateAlias (§6.2): give a key a name such as `alias/Apollo/WorkKey`.
//!
//! Parameters: `AliasName` and `KeyId` (both required). Reply: just the `RequestId`.

use openkms_core::KeyService;

use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let name = params.required("AliasName")?;
    let key = service.parse_key_ref(params.required("KeyId")?)?;
    service.create_alias(name, &key).await?;
    Ok(common::empty())
}
