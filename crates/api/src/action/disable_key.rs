//! DisableKey: the key refuses Encrypt, Decrypt and the other cryptographic operations
//! from the next request on, until enabled again.
//!
//! Parameters: `KeyId`. Reply: `RequestId`.

use openkms_core::KeyService;

use super::spec::{self, ActionSpec};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What this action accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Disable a key (it refuses cryptographic operations)",
    params: &[spec::KEY_ID],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    service
        .disable_key(&common::key_id(service, params).await?)
        .await?;
    Ok(common::empty())
}
