//! DeletePolicy on the wire.
//!
//! Parameters: `PolicyName` (required). Reply: just the `RequestId`.

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_core::model::PolicyType;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::DeletePolicy;

use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for DeletePolicy {
    const SPEC: ActionSpec = ActionSpec {
        about: "Delete a custom RAM policy (detach it from every user first)",
        params: &[required("PolicyName", "the policy's name")],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let policy_name = params.required("PolicyName")?.to_owned();
        Ok(Self { policy_name })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::policy(params, call, Some(PolicyType::Custom))]
    }
}
