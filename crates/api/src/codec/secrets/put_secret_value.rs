//! PutSecretValue on the wire.
//!
//! Parameters: `SecretName`, `VersionId`, `SecretData` (required), `SecretDataType`,
//! `VersionStages` (a JSON array string, `["ACSCurrent","X"]`; the older object form
//! `{"VersionStage":[…]}` is accepted too). Reply: `SecretName`, `VersionId`,
//! `VersionStages.VersionStage[]` (the labels now on the new version).

use openkms_core::KeyService;
use openkms_ops::secrets::PutSecretValue;
use openkms_ops::{Call, Touch};
use serde::Serialize;

use super::{SECRET_NAME, Stages, data_type, fallback, secret_data, secret_name};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::rpc::{Params, RpcError};

/// PutSecretValue's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Put<'a> {
    secret_name: &'a str,
    version_id: &'a str,
    version_stages: Stages<'a>,
}

/// `VersionStages`: a JSON array of strings, or `{"VersionStage":[…]}`.
fn version_stages(text: &str) -> Result<Vec<String>, RpcError> {
    let bad = || RpcError::invalid("VersionStages");
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| bad())?;
    let list = match &value {
        serde_json::Value::Object(o) => o.get("VersionStage").ok_or_else(bad)?,
        other => other,
    };
    let items = list.as_array().ok_or_else(bad)?;
    items
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
        .collect()
}

impl Wire for PutSecretValue {
    const SPEC: ActionSpec = ActionSpec {
        about: "Store a new version of a secret",
        params: &[
            SECRET_NAME,
            required("VersionId", "the new version's id"),
            required(
                "SecretData",
                "the value (stored byte for byte, at most 30720 bytes)",
            ),
            optional("SecretDataType", "text (default) or binary"),
            optional(
                "VersionStages",
                "JSON array of stage labels (default [\"ACSCurrent\"])",
            ),
        ],
    };
    type Reply<'a> = Put<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let stages = params
            .optional("VersionStages")
            .map(version_stages)
            .transpose()?;
        Ok(Self {
            name: secret_name(params, kms)?,
            version_id: params.required("VersionId")?.to_owned(),
            data: secret_data(params)?,
            data_type: data_type(params)?,
            stages,
        })
    }

    fn encode<'a>(
        out: &'a (String, String, Vec<String>),
        _: &KeyService,
    ) -> Result<Put<'a>, RpcError> {
        let (name, version_id, stages) = out;
        Ok(Put {
            secret_name: name,
            version_id,
            version_stages: Stages {
                version_stage: stages,
            },
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}

#[cfg(test)]
mod tests {
    use super::version_stages;

    #[test]
    fn both_forms_of_version_stages_are_read() {
        let list = version_stages(r#"["ACSCurrent","X"]"#).ok();
        assert_eq!(list, Some(vec!["ACSCurrent".to_owned(), "X".to_owned()]));
        let object = version_stages(r#"{"VersionStage":["Y"]}"#).ok();
        assert_eq!(object, Some(vec!["Y".to_owned()]));
        assert_eq!(version_stages("[]").ok(), Some(vec![]));
        for bad in ["ACSCurrent", "[1]", "{}", "\"x\""] {
            assert!(version_stages(bad).is_err(), "{bad}");
        }
    }
}
