//! TagResources: the newer, repeat-list form of tagging, for several keys at once.
//!
//! Parameters: `RegionId`, `ResourceType` (`key`), `ResourceId.N`, `Tag.N.Key`, `Tag.N.Value`.
//! Reply: `RequestId`. Every key is checked before any is tagged.

use openkms_core::{KeyService, Tag};

use super::spec::{ActionSpec, required};
use super::{Fields, common, tag_lists};
use crate::rpc::{Params, RpcError};

/// What TagResources accepts (repeat lists are given as `--ResourceId.1`, `--Tag.1.Key`, …).
pub const SPEC: ActionSpec = ActionSpec {
    about: "Tag several keys (ResourceId.N, Tag.N.Key, Tag.N.Value)",
    params: &[
        required("RegionId", "the region, as configured on the server"),
        required("ResourceType", "key"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let keys = tag_lists::resources(service, params, true).await?;
    let tags: Vec<Tag> = tag_lists::tags(params)?;
    if tags.is_empty() {
        return Err(RpcError::MissingParameter("Tag.1.Key"));
    }
    for key_id in &keys {
        service
            .tag_key(key_id, &tags)
            .await
            .map_err(tag_lists::tag_error)?;
    }
    Ok(common::empty())
}
