//! DeleteSecret on the wire.
//!
//! Parameters: `SecretName` (required), `RecoveryWindowInDays` (7–30, default 30),
//! `ForceDeleteWithoutRecovery` (default false). Both together are accepted (Terraform sends
//! both, §0.11): the window is range-checked, then ignored. Reply: `SecretName`,
//! `PlannedDeleteTime` (now, for a forced deletion).

use openkms_core::KeyService;
use openkms_ops::secrets::{DeleteSecret, Deleted};
use openkms_ops::{Call, Touch};
use serde::Serialize;

use super::{SECRET_NAME, fallback, secret_name};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional};
use crate::rpc::{Params, RpcError, dates};

/// DeleteSecret's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Scheduled<'a> {
    secret_name: &'a str,
    planned_delete_time: String,
}

impl Wire for DeleteSecret {
    const SPEC: ActionSpec = ActionSpec {
        about: "Delete a secret after a recovery window, or at once",
        params: &[
            SECRET_NAME,
            optional("RecoveryWindowInDays", "7-30 days (default 30)"),
            optional("ForceDeleteWithoutRecovery", "true to destroy it now"),
        ],
    };
    type Reply<'a> = Scheduled<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let window = params
            .optional("RecoveryWindowInDays")
            .map_or(Ok(30), |v| {
                v.parse::<i64>()
                    .map_err(|_| RpcError::invalid("RecoveryWindowInDays"))
            })?;
        Ok(Self {
            name: secret_name(params, kms)?,
            force: params.bool_or("ForceDeleteWithoutRecovery", false)?,
            window_days: window,
        })
    }

    fn encode<'a>(out: &'a Deleted, _: &KeyService) -> Result<Scheduled<'a>, RpcError> {
        Ok(Scheduled {
            secret_name: &out.name,
            planned_delete_time: dates::format(out.planned_delete_at),
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
