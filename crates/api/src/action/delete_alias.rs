//! DeleteAlias: remove an alias (the key is untouched).
//!
//! Parameters: `AliasName`. Reply: `RequestId`.

use openkms_core::KeyService;

use super::spec::{ActionSpec, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What DeleteAlias accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Delete an alias",
    params: &[required("AliasName", "the alias to delete")],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    service.delete_alias(params.required("AliasName")?).await?;
    Ok(common::empty())
}
