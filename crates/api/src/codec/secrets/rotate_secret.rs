//! RotateSecret and UpdateSecretRotationPolicy on the wire: managed secret types only, which
//! this server does not serve; both answer 400 `Rejected.UnsupportedOperation` for an existing
//! secret (see the operations' file). Parameters as Alibaba documents them; nothing but
//! `SecretName` is read.

use openkms_core::KeyService;
use openkms_ops::secrets::{RotateSecret, UpdateSecretRotationPolicy};
use openkms_ops::{Call, Touch};
use serde::Serialize;

use super::{SECRET_NAME, fallback, secret_name};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional};
use crate::rpc::{Params, RpcError};

/// The reply neither action ever gives.
#[derive(Serialize)]
pub struct Never {}

impl Wire for RotateSecret {
    const SPEC: ActionSpec = ActionSpec {
        about: "Rotate a managed secret (not supported: Generic secrets rotate by PutSecretValue)",
        params: &[SECRET_NAME, optional("VersionId", "the new version's id")],
    };
    type Reply<'a> = Never;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        Ok(Self {
            name: secret_name(params, kms)?,
        })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Never, RpcError> {
        Ok(Never {})
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}

impl Wire for UpdateSecretRotationPolicy {
    const SPEC: ActionSpec = ActionSpec {
        about: "Set a managed secret's rotation (not supported for Generic secrets)",
        params: &[
            SECRET_NAME,
            optional("EnableAutomaticRotation", "true or false"),
            optional("RotationInterval", "the interval"),
        ],
    };
    type Reply<'a> = Never;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        Ok(Self {
            name: secret_name(params, kms)?,
        })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Never, RpcError> {
        Ok(Never {})
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
