//! GetSecretPolicy on the wire. Parameters: `SecretName`, `PolicyName` (only `default`).
//! Reply: `Policy`, the document as a JSON string.

use openkms_core::KeyService;
use openkms_ops::secrets::GetSecretPolicy;
use openkms_ops::{Call, Touch};
use serde::Serialize;

use super::{SECRET_NAME, fallback, secret_name};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional};
use crate::rpc::{Params, RpcError};

/// GetSecretPolicy's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretPolicy<'a> {
    policy: &'a str,
}

impl Wire for GetSecretPolicy {
    const SPEC: ActionSpec = ActionSpec {
        about: "Show a secret's policy",
        params: &[
            SECRET_NAME,
            optional("PolicyName", "default (the only one)"),
        ],
    };
    type Reply<'a> = SecretPolicy<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        if params
            .optional("PolicyName")
            .is_some_and(|n| n != "default")
        {
            return Err(RpcError::invalid("PolicyName"));
        }
        Ok(Self {
            name: secret_name(params, kms)?,
        })
    }

    fn encode<'a>(policy: &'a String, _: &KeyService) -> Result<SecretPolicy<'a>, RpcError> {
        Ok(SecretPolicy { policy })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
