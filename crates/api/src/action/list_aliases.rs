//! ListAliases: every alias, a page at a time, sorted by name.
//!
//! Parameters: `PageNumber`, `PageSize`. Reply: `Aliases.Alias[]` of `AliasName`, `AliasArn`,
//! `KeyId`, with the paging fields.

use openkms_core::KeyService;

use super::spec::ActionSpec;
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What ListAliases accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "List aliases",
    params: &common::PAGE_PARAMS,
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let paging = common::paging(params)?;
    let aliases = service.list_aliases(None).await?;
    Ok(common::page(&aliases, paging, ("Aliases", "Alias"), |a| {
        common::alias(service, a)
    }))
}
