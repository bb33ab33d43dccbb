//! The Secrets Manager actions on the Alibaba wire (alibaba-kms-api-next.md §5), one codec
//! file each, and what they share: the `SecretName` parameter (a name or a secret ARN), the
//! `VersionStages` reply wrapper, data types, and the touch a request that does not decode is
//! authorized against (the secret its `SecretName` names, else the secret container).
//!
//! Every parameter is read from the query and the form body alike (`Params` merges them):
//! the Tea SDK sends `SecretData` in the body, the old SDK in the query.

mod create_secret;
mod delete_secret;
mod describe_secret;
mod get_secret_policy;
mod get_secret_value;
mod list_secret_version_ids;
mod list_secrets;
mod put_secret_value;
mod restore_secret;
mod rotate_secret;
mod set_secret_policy;
mod update_secret;
mod update_secret_version_stage;

use openkms_core::{KeyService, SecretBytes, SecretDataType};
use openkms_ops::{Call, Touch};
use serde::Serialize;

use crate::codec::spec::{ParamSpec, required};
use crate::rpc::{Params, RpcError};

/// `SecretName` as every secret action takes it.
pub(crate) const SECRET_NAME: ParamSpec = required("SecretName", "secret name or secret ARN");

/// The secret a request names.
pub(crate) fn secret_name(params: &Params, kms: &KeyService) -> Result<String, RpcError> {
    Ok(kms.parse_secret_name(params.required("SecretName")?)?)
}

/// What an undecodable request is authorized against: its secret (as named, unchecked) or
/// the account's secret container.
pub(crate) fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
    match params.optional("SecretName") {
        Some(name) => vec![Touch::Secret(name.to_owned())],
        None => vec![Touch::secret_container(call.kms)],
    }
}

/// `SecretDataType`: `text` (default) or `binary`.
pub(crate) fn data_type(params: &Params) -> Result<SecretDataType, RpcError> {
    match params.optional("SecretDataType") {
        None => Ok(SecretDataType::Text),
        Some(t) => SecretDataType::parse(t).ok_or(RpcError::invalid("SecretDataType")),
    }
}

/// `SecretData`, byte for byte (never base64-decoded, also for `binary`).
pub(crate) fn secret_data(params: &Params) -> Result<SecretBytes, RpcError> {
    let text = params.required("SecretData")?;
    Ok(SecretBytes::new(text.as_bytes().to_vec()))
}

/// `{"VersionStage":[…]}`.
#[derive(Serialize)]
pub struct Stages<'a> {
    #[serde(rename = "VersionStage")]
    pub(crate) version_stage: &'a [String],
}

/// A reply naming only the secret.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameOnly<'a> {
    pub(crate) secret_name: &'a str,
}

/// A page number and size from 1, with the default size given.
pub(crate) fn paging(params: &Params, default_size: u64) -> Result<(u64, u64), RpcError> {
    let read = |name: &'static str, default: u64| {
        params.optional(name).map_or(Ok(default), |v| {
            v.parse().map_err(|_| RpcError::invalid(name))
        })
    };
    let (page, size) = (read("PageNumber", 1)?, read("PageSize", default_size)?);
    if page < 1 || !(1..=100).contains(&size) {
        return Err(RpcError::invalid("PageSize"));
    }
    Ok((page, size))
}
