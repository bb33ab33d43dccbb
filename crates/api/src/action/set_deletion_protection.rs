//! SetDeletionProtection: protect a key against scheduled deletion, or lift the protection.
//!
//! Parameters: `ProtectedResourceArn` (the key's ARN), `EnableDeletionProtection`,
//! `DeletionProtectionDescription`. Reply: `RequestId`.

use openkms_core::KeyService;

use super::spec::{ActionSpec, optional, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What SetDeletionProtection accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Turn a key's deletion protection on or off",
    params: &[
        required("ProtectedResourceArn", "the key ARN"),
        required("EnableDeletionProtection", "true or false"),
        optional("DeletionProtectionDescription", "why the key is protected"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key = service.parse_key_ref(params.required("ProtectedResourceArn")?)?;
    let key_id = service.resolve(&key).await?;
    params.required("EnableDeletionProtection")?;
    let protection = match params.bool_or("EnableDeletionProtection", false)? {
        true => Some(
            params
                .get("DeletionProtectionDescription")
                .unwrap_or("")
                .to_owned(),
        ),
        false => None,
    };
    service.set_deletion_protection(&key_id, protection).await?;
    Ok(common::empty())
}
