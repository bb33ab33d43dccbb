//! GetSecretValue on the wire.
//!
//! Parameters: `SecretName` (required), `VersionId`, `VersionStage` (ACSCurrent when neither
//! is given), `FetchExtendedConfig` (managed types only: read and ignored), `DryRun`. Reply:
//! `SecretName`, `VersionId`, `SecretData` (exactly as stored, for `text` and `binary`),
//! `SecretType`, `SecretDataType`, `VersionStages.VersionStage[]`, `CreateTime` (the version's).
//! The value goes from its `SecretBytes` straight into the reply.

use openkms_core::KeyService;
use openkms_core::service::secrets::{SecretValue, VersionSelector};
use openkms_ops::secrets::GetSecretValue;
use openkms_ops::{Call, Touch};
use serde::Serialize;

use super::{SECRET_NAME, Stages, fallback, secret_name};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, DRY_RUN, optional};
use crate::rpc::{Params, RpcError, dates};

/// GetSecretValue's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Value<'a> {
    secret_name: &'a str,
    version_id: &'a str,
    secret_data: &'a str,
    secret_type: &'a str,
    secret_data_type: &'a str,
    version_stages: Stages<'a>,
    create_time: String,
}

impl Wire for GetSecretValue {
    const SPEC: ActionSpec = ActionSpec {
        about: "Read a secret's value (ACSCurrent unless a version or stage is named)",
        params: &[
            SECRET_NAME,
            optional("VersionId", "the version to read"),
            optional("VersionStage", "the stage to read (default ACSCurrent)"),
            optional("FetchExtendedConfig", "managed types only; ignored"),
            DRY_RUN,
        ],
    };
    type Reply<'a> = Value<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        params.bool_or("FetchExtendedConfig", false)?;
        Ok(Self {
            name: secret_name(params, kms)?,
            selector: VersionSelector {
                version_id: params.optional("VersionId").map(str::to_owned),
                stage: params.optional("VersionStage").map(str::to_owned),
            },
        })
    }

    fn encode<'a>(out: &'a SecretValue, _: &KeyService) -> Result<Value<'a>, RpcError> {
        // Values are stored as the UTF-8 text they arrived as; a stored value that is not
        // UTF-8 is corrupt.
        let data = std::str::from_utf8(out.data.expose_secret())
            .map_err(|_| RpcError::Kms(openkms_core::KmsError::Corrupt))?;
        Ok(Value {
            secret_name: &out.secret.name,
            version_id: &out.version.version_id,
            secret_data: data,
            secret_type: &out.secret.secret_type,
            secret_data_type: out.version.data_type.as_str(),
            version_stages: Stages {
                version_stage: &out.stages,
            },
            create_time: dates::format(out.version.created_at),
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
