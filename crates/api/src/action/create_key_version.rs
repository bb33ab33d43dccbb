//! CreateKeyVersion: rotate a key by hand; the new version becomes the primary.
//!
//! Parameters: `KeyId`. Reply: `KeyVersion` (`KeyId`, `KeyVersionId`, `CreationDate`). Older
//! versions keep decrypting what they encrypted.

use openkms_core::KeyService;
use serde_json::json;

use super::spec::{self, ActionSpec};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What CreateKeyVersion accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Create a new primary version of a key",
    params: &[spec::KEY_ID],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let version = service
        .create_key_version(&common::key_id(service, params).await?)
        .await?;
    Ok(common::fields(
        json!({ "KeyVersion": common::key_version(&version) }),
    ))
}
