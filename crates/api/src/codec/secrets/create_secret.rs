//! CreateSecret on the wire.
//!
//! Parameters: `SecretName`, `VersionId`, `SecretData` (required; `SecretData` from the query
//! or the form body), `SecretDataType`, `SecretType` (`Generic`; managed types are
//! `UnsupportedOperation`), `EncryptionKeyId`, `Description`, `Tags` (JSON), `Policy`,
//! `ExtendedConfig`, `EnableAutomaticRotation`, `RotationInterval` and `DKMSInstanceId`
//! (the last four are managed-type or instance settings: a Generic secret ignores them, a
//! `DKMSInstanceId` is refused as for keys). Reply: `Arn`, `SecretName`, `VersionId`,
//! `SecretType`.

use openkms_core::service::secrets::{GENERIC, NewSecret};
use openkms_core::{KeyService, KmsError, SecretRecord};
use openkms_ops::secrets::CreateSecret;
use openkms_ops::{Call, Touch};
use serde::Serialize;

use super::{SECRET_NAME, data_type, fallback, secret_data, secret_name};
use crate::codec::Wire;
use crate::codec::kms::tags::json_tags;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::rpc::{Params, RpcError};

/// CreateSecret's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Created<'a> {
    arn: String,
    secret_name: &'a str,
    version_id: &'a str,
    secret_type: &'a str,
}

impl Wire for CreateSecret {
    const SPEC: ActionSpec = ActionSpec {
        about: "Create a secret with its first version",
        params: &[
            SECRET_NAME,
            required("VersionId", "the first version's id"),
            required(
                "SecretData",
                "the value (stored byte for byte, at most 30720 bytes)",
            ),
            optional("SecretDataType", "text (default) or binary"),
            optional("SecretType", "Generic (the only type served)"),
            optional("EncryptionKeyId", "the CMK that encrypts the versions"),
            optional("Description", "free text"),
            optional("Tags", "JSON list of {TagKey, TagValue}"),
            optional("Policy", "the secret policy (JSON)"),
            optional("ExtendedConfig", "managed types only; ignored"),
            optional("DKMSInstanceId", "not supported"),
        ],
    };
    type Reply<'a> = Created<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        if params.optional("DKMSInstanceId").is_some() {
            return Err(RpcError::Kms(KmsError::DkmsInstanceNotFound));
        }
        let key = match params.optional("EncryptionKeyId") {
            Some(text) => Some(kms.parse_key_ref(text)?),
            None => None,
        };
        let tags = params.optional("Tags").map(json_tags).transpose()?;
        Ok(Self(NewSecret {
            name: secret_name(params, kms)?,
            version_id: params.required("VersionId")?.to_owned(),
            data: secret_data(params)?,
            data_type: data_type(params)?,
            secret_type: params.optional("SecretType").unwrap_or(GENERIC).to_owned(),
            key,
            description: params.optional("Description").unwrap_or("").to_owned(),
            tags: tags.unwrap_or_default(),
            policy: params.optional("Policy").map(str::to_owned),
        }))
    }

    fn encode<'a>(
        out: &'a (SecretRecord, String),
        kms: &KeyService,
    ) -> Result<Created<'a>, RpcError> {
        let (secret, version_id) = out;
        Ok(Created {
            arn: kms.secret_arn(&secret.name),
            secret_name: &secret.name,
            version_id,
            secret_type: &secret.secret_type,
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
