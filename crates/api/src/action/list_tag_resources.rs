//! ListTagResources: tags of keys, in the repeat-list form.
//!
//! Parameters: `RegionId`, `ResourceType` (`key`), `ResourceId.N` (default: every key),
//! `Tag.N.Key`/`Tag.N.Value` (only these tags), `NextToken`. Reply:
//! `TagResources.TagResource[]` of `ResourceType`, `ResourceId`, `TagKey`, `TagValue`, and an
//! empty `NextToken` (everything fits one reply).

use openkms_core::KeyService;
use serde_json::{Value, json};

use super::spec::{ActionSpec, optional, required};
use super::{Fields, common, tag_lists};
use crate::rpc::{Params, RpcError};

/// What ListTagResources accepts (repeat lists: `--ResourceId.1`, `--Tag.1.Key`, …).
pub const SPEC: ActionSpec = ActionSpec {
    about: "List tags of keys (ResourceId.N, Tag.N.Key)",
    params: &[
        required("RegionId", "the region, as configured on the server"),
        required("ResourceType", "key"),
        optional("NextToken", "the token of the previous page"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let mut keys = tag_lists::resources(service, params, false).await?;
    if keys.is_empty() {
        keys = service
            .list_keys(&[])
            .await?
            .into_iter()
            .map(|k| k.key_id)
            .collect();
    }
    let wanted = tag_lists::tags(params)?;
    let mut rows: Vec<Value> = Vec::new();
    for key_id in &keys {
        for tag in service.list_key_tags(key_id).await? {
            if wanted.is_empty()
                || wanted
                    .iter()
                    .any(|w| w.key == tag.key && (w.value.is_empty() || w.value == tag.value))
            {
                rows.push(json!({ "ResourceType": "key", "ResourceId": key_id, "TagKey": tag.key, "TagValue": tag.value }));
            }
        }
    }
    Ok(common::fields(
        json!({ "TagResources": { "TagResource": rows }, "NextToken": "" }),
    ))
}
