//! Pieces several actions share: KeyMetadata, EncryptionContext from either wire form, base64,
//! the data-key parameters.
//!
//! Nothing here applies a use case; these are wire-to-domain and domain-to-wire helpers.

use base64::Engine as _;
use openkms_core::service::DataKeyOutput;
use openkms_core::{EncryptionContext, InvalidReason, KeyRecord, KeyService, KmsError};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use super::spec::{self, ParamSpec};
use crate::rpc::{Params, RpcError, dates};

/// Standard base64 with padding, as the API uses for blobs and binary values.
pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The `EncryptionContext` of a request: the JSON form, the flattened `EncryptionContext.k=v`
/// form of the npm SDK, or both merged; empty when absent.
pub fn encryption_context(params: &Params) -> Result<EncryptionContext, RpcError> {
    let json = params.optional("EncryptionContext").unwrap_or("");
    let mut flat = params.with_prefix("EncryptionContext.").peekable();
    if flat.peek().is_none() {
        return Ok(EncryptionContext::from_json(json)?);
    }
    let mut map: BTreeMap<String, String> = EncryptionContext::from_json(json)?
        .entries()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    map.extend(flat.map(|(k, v)| (k.to_owned(), v.to_owned())));
    Ok(EncryptionContext::from_map(map)?)
}

/// The parameters of both data-key actions.
pub const DATA_KEY_PARAMS: [ParamSpec; 4] = [
    spec::KEY_ID,
    spec::optional("KeySpec", "AES_256 (default) or AES_128"),
    spec::optional("NumberOfBytes", "key length 1-1024, overrides KeySpec"),
    spec::ENCRYPTION_CONTEXT,
];

/// Parses the GenerateDataKey parameters and applies them (shared by both data-key actions).
pub async fn generate_data_key(
    service: &KeyService,
    params: &Params,
) -> Result<DataKeyOutput, RpcError> {
    let key = service.parse_key_ref(params.required("KeyId")?)?;
    let len = data_key_len(params)?;
    let context = encryption_context(params)?;
    Ok(service.generate_data_key(&key, len, &context).await?)
}

/// `NumberOfBytes` (1-1024) if given, else `KeySpec` (`AES_256` = 32, `AES_128` = 16), else 32.
fn data_key_len(params: &Params) -> Result<usize, RpcError> {
    if let Some(n) = params.optional("NumberOfBytes") {
        // The range is the service's rule; here only the number is read.
        return n.parse().map_err(|_| RpcError::invalid("NumberOfBytes"));
    }
    match params.optional("KeySpec") {
        None | Some("AES_256") => Ok(32),
        Some("AES_128") => Ok(16),
        Some(_) => Err(KmsError::invalid("KeySpec", InvalidReason::NotAccepted).into()),
    }
}

/// Decodes a CiphertextBlob; bad base64 is the same error as a bad blob.
pub fn decode_blob(text: &str) -> Result<Vec<u8>, RpcError> {
    B64.decode(text.trim())
        .map_err(|_| RpcError::Kms(KmsError::InvalidCiphertext))
}

/// The `KeyMetadata` object of CreateKey and DescribeKey (§6.1).
pub fn key_metadata(service: &KeyService, key: &KeyRecord) -> Value {
    let mut m = Map::new();
    m.insert("KeyId".into(), key.key_id.clone().into());
    m.insert("KeyState".into(), key.state.as_str().into());
    m.insert("Arn".into(), service.key_arn(&key.key_id).into());
    m.insert("Creator".into(), key.creator.clone().into());
    m.insert("CreationDate".into(), dates::format(key.created_at).into());
    m.insert(
        "LastRotationDate".into(),
        dates::format(key.last_rotation_at).into(),
    );
    m.insert(
        "DeleteDate".into(),
        key.delete_at.map(dates::format).unwrap_or_default().into(),
    );
    m.insert(
        "PrimaryKeyVersion".into(),
        key.primary_version.clone().into(),
    );
    m.insert("Description".into(), key.description.clone().into());
    m.insert("KeySpec".into(), key.spec.as_str().into());
    m.insert("KeyUsage".into(), key.usage.as_str().into());
    m.insert("Origin".into(), key.origin.as_str().into());
    m.insert("MaterialExpireTime".into(), "".into());
    m.insert(
        "ProtectionLevel".into(),
        key.protection_level.as_str().into(),
    );
    m.insert("AutomaticRotation".into(), rotation_state(key).into());
    if let (Some(interval), Some(next)) = (key.rotation_interval, key.next_rotation_at) {
        m.insert("RotationInterval".into(), format!("{interval}s").into());
        m.insert("NextRotationDate".into(), dates::format(next).into());
    }
    Value::Object(m)
}

fn rotation_state(key: &KeyRecord) -> &'static str {
    match key.rotation_interval {
        Some(_) => "Enabled",
        None => "Disabled",
    }
}

/// Builds reply fields from a `json!` object literal.
pub fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A one-field reply with just the `RequestId` (added by the renderer).
pub fn empty() -> Map<String, Value> {
    fields(json!({}))
}
