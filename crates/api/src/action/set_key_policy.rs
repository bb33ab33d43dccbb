//! SetKeyPolicy: replace the policy document of a key.
//!
//! Parameters: `KeyId` and `Policy` (required; a key policy of at most 32768 bytes whose
//! statements each name a `Principal`), `PolicyName` (only `default`). Reply: just the
//! `RequestId`. How key policies combine with users' policies is in `docs/access.md`.

use openkms_core::KeyService;
use openkms_core::service::KEY_POLICY_NAME;

use super::spec::{self, ActionSpec, optional, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What SetKeyPolicy accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Replace a key's policy",
    params: &[
        spec::KEY_ID,
        required("Policy", "the key policy JSON, up to 32768 bytes"),
        optional("PolicyName", "default (the only one)"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key = service.parse_key_ref(params.required("KeyId")?)?;
    let policy = params.required("Policy")?;
    let name = params.optional("PolicyName").unwrap_or(KEY_POLICY_NAME);
    service.set_key_policy(&key, name, policy).await?;
    Ok(common::empty())
}
