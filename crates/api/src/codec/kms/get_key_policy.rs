//! GetKeyPolicy on the wire: the policy document of a key.
//!
//! Parameters: `KeyId` (required), `PolicyName` (only `default`, the default when absent).
//! Reply: `Policy`, the document as a JSON string; a key created without one shows the
//! default key policy.

use openkms_core::KeyService;
use openkms_core::service::KEY_POLICY_NAME;
use openkms_ops::kms::GetKeyPolicy;
use serde::Serialize;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, optional};
use crate::rpc::{Params, RpcError};

/// GetKeyPolicy's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyPolicy<'a> {
    policy: &'a str,
}

impl Wire for GetKeyPolicy {
    const SPEC: ActionSpec = ActionSpec {
        about: "Show a key's policy",
        params: &[
            spec::KEY_ID,
            optional("PolicyName", "default (the only one)"),
        ],
    };
    type Reply<'a> = KeyPolicy<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let name = params.optional("PolicyName").unwrap_or(KEY_POLICY_NAME);
        Ok(Self {
            key,
            name: name.to_owned(),
        })
    }

    fn encode<'a>(policy: &'a String, _: &KeyService) -> Result<KeyPolicy<'a>, RpcError> {
        Ok(KeyPolicy { policy })
    }
}
