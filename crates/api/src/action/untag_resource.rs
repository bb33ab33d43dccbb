//! UntagResource: remove tags from a key by tag key.
//!
//! Parameters: `KeyId`, `TagKeys` (JSON `["k1","k2"]`). Reply: `RequestId`.

use openkms_core::KeyService;

use super::spec::{self, ActionSpec, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What UntagResource accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Remove tags from a key",
    params: &[
        spec::KEY_ID,
        required("TagKeys", "JSON array of tag keys such as [\"k1\"]"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key_id = common::key_id(service, params).await?;
    let keys: Vec<String> = serde_json::from_str(params.required("TagKeys")?)
        .map_err(|_| RpcError::invalid("TagKeys"))?;
    service.untag_key(&key_id, &keys).await?;
    Ok(common::empty())
}
