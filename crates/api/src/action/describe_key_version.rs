//! DescribeKeyVersion: one version of a key.
//!
//! Parameters: `KeyId`, `KeyVersionId`. Reply: `KeyVersion`.

use openkms_core::KeyService;
use serde_json::json;

use super::spec::{self, ActionSpec, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What DescribeKeyVersion accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Show one version of a key",
    params: &[spec::KEY_ID, required("KeyVersionId", "the version id")],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key_id = common::key_id(service, params).await?;
    let version = service
        .describe_key_version(&key_id, params.required("KeyVersionId")?)
        .await?;
    Ok(common::fields(
        json!({ "KeyVersion": common::key_version(&version) }),
    ))
}
