//! ListResourceTags: a key's tags.
//!
//! Parameters: `KeyId`. Reply: `Tags.Tag[]` of `KeyId`, `TagKey`, `TagValue`.

use openkms_core::KeyService;
use serde_json::json;

use super::spec::{self, ActionSpec};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What ListResourceTags accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "List a key's tags",
    params: &[spec::KEY_ID],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key_id = common::key_id(service, params).await?;
    let tags = service.list_key_tags(&key_id).await?;
    let tags: Vec<_> = tags
        .iter()
        .map(|t| json!({ "KeyId": key_id, "TagKey": t.key, "TagValue": t.value }))
        .collect();
    Ok(common::fields(json!({ "Tags": { "Tag": tags } })))
}
