//! SetKeyPolicy on the wire: replace the policy document of a key.
//!
//! Parameters: `KeyId` and `Policy` (required; a key policy of at most 32768 bytes whose
//! statements each name a `Principal`), `PolicyName` (only `default`). Reply: just the
//! `RequestId`. How key policies combine with users' policies is in `docs/access.md`.

use openkms_core::service::KEY_POLICY_NAME;
use openkms_core::{KeyRecord, KeyService};
use openkms_ops::kms::SetKeyPolicy;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, optional, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for SetKeyPolicy {
    const SPEC: ActionSpec = ActionSpec {
        about: "Replace a key's policy",
        params: &[
            spec::KEY_ID,
            required("Policy", "the key policy JSON, up to 32768 bytes"),
            optional("PolicyName", "default (the only one)"),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let policy = params.required("Policy")?.to_owned();
        let name = params.optional("PolicyName").unwrap_or(KEY_POLICY_NAME);
        Ok(Self {
            key,
            name: name.to_owned(),
            policy,
        })
    }

    fn encode(_: &KeyRecord, _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }
}
