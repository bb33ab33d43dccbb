//! CancelKeyDeletion: a key pending deletion returns to Enabled.
//!
//! Parameters: `KeyId`. Reply: `RequestId`.

use openkms_core::KeyService;

use super::spec::{self, ActionSpec};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What this action accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Cancel a key's scheduled deletion",
    params: &[spec::KEY_ID],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    service
        .cancel_key_deletion(&common::key_id(service, params).await?)
        .await?;
    Ok(common::empty())
}
