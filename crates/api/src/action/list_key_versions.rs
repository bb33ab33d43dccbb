//! ListKeyVersions: a key's versions, oldest first, a page at a time.
//!
//! Parameters: `KeyId`, `PageNumber`, `PageSize`. Reply: `KeyVersions.KeyVersion[]` with the
//! paging fields.

use openkms_core::KeyService;

use super::spec::{self, ActionSpec};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What ListKeyVersions accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "List a key's versions",
    params: &[spec::KEY_ID, common::PAGE_PARAMS[0], common::PAGE_PARAMS[1]],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key_id = common::key_id(service, params).await?;
    let paging = common::paging(params)?;
    let versions = service.list_key_versions(&key_id).await?;
    Ok(common::page(
        &versions,
        paging,
        ("KeyVersions", "KeyVersion"),
        common::key_version,
    ))
}
