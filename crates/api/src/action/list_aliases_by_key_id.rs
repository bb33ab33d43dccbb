//! ListAliasesByKeyId: the aliases of one key, a page at a time.
//!
//! Parameters: `KeyId`, `PageNumber`, `PageSize`. Reply as ListAliases.

use openkms_core::KeyService;

use super::spec::{self, ActionSpec};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What ListAliasesByKeyId accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "List the aliases of a key",
    params: &[spec::KEY_ID, common::PAGE_PARAMS[0], common::PAGE_PARAMS[1]],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key = service.parse_key_ref(params.required("KeyId")?)?;
    let paging = common::paging(params)?;
    let aliases = service.list_aliases(Some(&key)).await?;
    Ok(common::page(&aliases, paging, ("Aliases", "Alias"), |a| {
        common::alias(service, a)
    }))
}
