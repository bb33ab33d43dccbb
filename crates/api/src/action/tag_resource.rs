//! TagResource: add or replace tags on a key.
//!
//! Parameters: `KeyId`, `Tags` (JSON `[{"TagKey":"k","TagValue":"v"}]`). Reply: `RequestId`.

use openkms_core::KeyService;

use super::spec::{self, ActionSpec, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What TagResource accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Add or replace tags on a key",
    params: &[
        spec::KEY_ID,
        required(
            "Tags",
            "JSON such as [{\"TagKey\":\"k\",\"TagValue\":\"v\"}]",
        ),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key_id = common::key_id(service, params).await?;
    let tags = super::create_key::tags(Some(params.required("Tags")?))?;
    service.tag_key(&key_id, &tags).await?;
    Ok(common::empty())
}
