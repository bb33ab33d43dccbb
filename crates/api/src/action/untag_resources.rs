//! UntagResources: remove tags from several keys at once (repeat-list form).
//!
//! Parameters: `RegionId`, `ResourceType` (`key`), `ResourceId.N`, `TagKey.N`, `All` (remove
//! every tag). Reply: `RequestId`.

use openkms_core::KeyService;

use super::spec::{ActionSpec, optional, required};
use super::{Fields, common, tag_lists};
use crate::rpc::{Params, RpcError};

/// What UntagResources accepts (repeat lists: `--ResourceId.1`, `--TagKey.1`, …).
pub const SPEC: ActionSpec = ActionSpec {
    about: "Remove tags from several keys (ResourceId.N, TagKey.N)",
    params: &[
        required("RegionId", "the region, as configured on the server"),
        required("ResourceType", "key"),
        optional("All", "true to remove every tag"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let keys = tag_lists::resources(service, params, true).await?;
    let all = params.bool_or("All", false)?;
    let named: Vec<String> = common::repeat_list(params, "TagKey")
        .into_iter()
        .map(|(_, _, v)| v.to_owned())
        .collect();
    for key_id in &keys {
        let tag_keys = match all {
            true => service
                .list_key_tags(key_id)
                .await?
                .into_iter()
                .map(|t| t.key)
                .collect(),
            false => named.clone(),
        };
        service.untag_key(key_id, &tag_keys).await?;
    }
    Ok(common::empty())
}
