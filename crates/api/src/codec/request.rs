//! Request values several decoders share: the EncryptionContext in either wire form and the
//! base64 CiphertextBlob.

use base64::Engine as _;
use openkms_core::{EncryptionContext, KmsError};
use std::collections::BTreeMap;

use crate::rpc::{Params, RpcError};

/// Standard base64 with padding, as the API uses for blobs and binary values.
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

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

/// Decodes a CiphertextBlob; bad base64 is the same error as a bad blob.
pub fn decode_blob(text: &str) -> Result<Vec<u8>, RpcError> {
    B64.decode(text.trim())
        .map_err(|_| RpcError::Kms(KmsError::InvalidCiphertext))
}
