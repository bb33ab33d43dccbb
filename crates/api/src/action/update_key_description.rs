//! UpdateKeyDescription: replace a key's description.
//!
//! Parameters: `KeyId`, `Description` (may be empty). Reply: `RequestId`.

use openkms_core::KeyService;

use super::spec::{self, ActionSpec, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What UpdateKeyDescription accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Change a key's description",
    params: &[
        spec::KEY_ID,
        required("Description", "the new description, up to 8192 characters"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key_id = common::key_id(service, params).await?;
    let description = params
        .get("Description")
        .ok_or(RpcError::MissingParameter("Description"))?;
    service.update_key_description(&key_id, description).await?;
    Ok(common::empty())
}
