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
    json_context(params, "EncryptionContext")
}

/// A context parameter named `name`, in either wire form (see [`encryption_context`]).
pub fn json_context(params: &Params, name: &str) -> Result<EncryptionContext, RpcError> {
    let json = params.optional(name).unwrap_or("");
    let prefix = format!("{name}.");
    let mut flat = params.with_prefix(&prefix).peekable();
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

/// Values of a repeat-list parameter (`Name.1`, `Name.2`, …) in index order.
pub fn repeat_list<'a>(params: &'a Params, name: &str) -> Vec<(u32, &'a str, &'a str)> {
    let prefix = format!("{name}.");
    let mut items: Vec<(u32, &str, &str)> = params
        .with_prefix(&prefix)
        .filter_map(|(rest, v)| {
            let (index, field) = rest.split_once('.').unwrap_or((rest, ""));
            index.parse().ok().map(|i| (i, field, v))
        })
        .collect();
    items.sort_by_key(|(i, _, _)| *i);
    items
}

/// The parameters of both data-key actions.
pub const DATA_KEY_PARAMS: [ParamSpec; 5] = [
    spec::KEY_ID,
    spec::optional("KeySpec", "AES_256 (default) or AES_128"),
    spec::optional("NumberOfBytes", "key length 1-1024, overrides KeySpec"),
    spec::ENCRYPTION_CONTEXT,
    spec::DRY_RUN,
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

/// The `KeyMetadata` object of CreateKey (§6.1); DescribeKey adds [`deletion_protection`].
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

/// The key id named by the `KeyId` parameter (id, alias or ARN), resolved.
pub async fn key_id(service: &KeyService, params: &Params) -> Result<String, RpcError> {
    let key = service.parse_key_ref(params.required("KeyId")?)?;
    Ok(service.resolve(&key).await?)
}

/// `PageNumber` (from 1, default 1) and `PageSize` (1-100, default 10).
pub fn paging(params: &Params) -> Result<(usize, usize), RpcError> {
    let number = int_or(params, "PageNumber", 1)?;
    let size = int_or(params, "PageSize", 10)?;
    if number < 1 {
        return Err(KmsError::invalid("PageNumber", InvalidReason::OutOfRange).into());
    }
    if !(1..=100).contains(&size) {
        return Err(KmsError::invalid("PageSize", InvalidReason::OutOfRange).into());
    }
    Ok((number, size))
}

fn int_or(params: &Params, name: &'static str, default: usize) -> Result<usize, RpcError> {
    params.optional(name).map_or(Ok(default), |v| {
        v.parse().map_err(|_| RpcError::invalid(name))
    })
}

/// One page of `items` in the list-wrapper shape `{Outer:{Inner:[…]}}` with the paging
/// fields as JSON integers (§4.1).
pub fn page<T>(
    items: &[T],
    (number, size): (usize, usize),
    (outer, inner): (&str, &str),
    render: impl Fn(&T) -> Value,
) -> Map<String, Value> {
    let shown: Vec<Value> = items
        .iter()
        .skip((number - 1).saturating_mul(size))
        .take(size)
        .map(render)
        .collect();
    let mut m = Map::new();
    m.insert(outer.into(), json!({ inner: shown }));
    m.insert("PageNumber".into(), number.into());
    m.insert("PageSize".into(), size.into());
    m.insert("TotalCount".into(), items.len().into());
    m
}

/// The paging parameters as the CLI table lists them.
pub const PAGE_PARAMS: [ParamSpec; 2] = [
    spec::optional("PageNumber", "page to show, from 1 (default 1)"),
    spec::optional("PageSize", "entries per page, 1-100 (default 10)"),
];

/// The JSON form of a key version.
pub fn key_version(version: &openkms_core::VersionRecord) -> Value {
    json!({
        "KeyId": version.key_id,
        "KeyVersionId": version.version_id,
        "CreationDate": dates::format(version.created_at),
    })
}

/// The JSON form of an alias.
pub fn alias(service: &KeyService, alias: &openkms_core::AliasRecord) -> Value {
    json!({
        "AliasName": alias.name,
        "AliasArn": service.alias_arn(&alias.name),
        "KeyId": alias.key_id,
    })
}

/// DescribeKey's extra `KeyMetadata` fields: `DeletionProtection` and its description.
pub fn deletion_protection(metadata: &mut Value, key: &KeyRecord) {
    if let Value::Object(m) = metadata {
        let (state, description) = match &key.deletion_protection {
            Some(d) => ("Enabled", d.as_str()),
            None => ("Disabled", ""),
        };
        m.insert("DeletionProtection".into(), state.into());
        m.insert("DeletionProtectionDescription".into(), description.into());
    }
}
