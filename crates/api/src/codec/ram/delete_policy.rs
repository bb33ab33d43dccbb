//! DeletePolicy on the wire.
//!
//! Parameters: `PolicyName` (required). Reply: just the `RequestId`.

use openkms_core::KeyService;
use openkms_ops::Touch;
use openkms_ops::ram::DeletePolicy;

use super::{Done, any_policy};
use crate::action::spec::{ActionSpec, required};
use crate::codec::Wire;
use crate::rpc::{Params, RpcError};

impl Wire for DeletePolicy {
    const SPEC: ActionSpec = ActionSpec {
        about: "Delete a custom RAM policy (detach it from every user first)",
        params: &[required("PolicyName", "the policy's name")],
    };
    type Reply<'a> = Done;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let policy_name = params.required("PolicyName")?.to_owned();
        Ok(Self { policy_name })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Done, RpcError> {
        Ok(Done {})
    }

    fn fallback(kms: &KeyService) -> Vec<Touch<'static>> {
        any_policy(kms)
    }
}
