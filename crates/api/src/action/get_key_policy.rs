//! GetKeyPolicy: the policy document of a key.
//!
//! Parameters: `KeyId` (required), `PolicyName` (only `default`, the default when absent).
//! Reply: `Policy`, the document as a JSON string; a key created without one shows the
//! default key policy.

use openkms_core::KeyService;
use openkms_core::service::KEY_POLICY_NAME;
use serde_json::json;

use super::spec::{self, ActionSpec, optional};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What GetKeyPolicy accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Show a key's policy",
    params: &[
        spec::KEY_ID,
        optional("PolicyName", "default (the only one)"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key = service.parse_key_ref(params.required("KeyId")?)?;
    let name = params.optional("PolicyName").unwrap_or(KEY_POLICY_NAME);
    let policy = service.get_key_policy(&key, name).await?;
    Ok(common::fields(json!({ "Policy": policy })))
}
