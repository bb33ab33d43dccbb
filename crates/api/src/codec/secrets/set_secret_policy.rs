//! SetSecretPolicy on the wire. Parameters: `SecretName`, `Policy` (required), `PolicyName`
//! (only `default`). Reply: nothing but the `RequestId`.

use openkms_core::KeyService;
use openkms_ops::secrets::SetSecretPolicy;
use openkms_ops::{Call, Touch};
use serde::Serialize;

use super::{SECRET_NAME, fallback, secret_name};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::rpc::{Params, RpcError};

/// SetSecretPolicy's (empty) reply.
#[derive(Serialize)]
pub struct Done {}

impl Wire for SetSecretPolicy {
    const SPEC: ActionSpec = ActionSpec {
        about: "Replace a secret's policy",
        params: &[
            SECRET_NAME,
            required("Policy", "the policy document (JSON)"),
            optional("PolicyName", "default (the only one)"),
        ],
    };
    type Reply<'a> = Done;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        if params
            .optional("PolicyName")
            .is_some_and(|n| n != "default")
        {
            return Err(RpcError::invalid("PolicyName"));
        }
        Ok(Self {
            name: secret_name(params, kms)?,
            policy: params.required("Policy")?.to_owned(),
        })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Done, RpcError> {
        Ok(Done {})
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
