//! GenerateDataKey: a fresh random data key for envelope encryption, in the clear and sealed.
//!
//! Parameters: `KeyId` (required), `KeySpec` (`AES_256` or `AES_128`) or `NumberOfBytes`
//! (1-1024, overrides KeySpec; 32 when neither is given), `EncryptionContext`. Reply: `KeyId`,
//! `KeyVersionId`, `Plaintext` (base64 of the key bytes), `CiphertextBlob`, which the ordinary
//! Decrypt turns back into that same `Plaintext`. Same state rules as Encrypt.

use base64::Engine as _;
use openkms_core::KeyService;
use serde_json::json;

use super::spec::ActionSpec;
use super::{Fields, common};

use crate::rpc::{Params, RpcError};

/// What GenerateDataKey accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Generate a data key, returned in the clear and encrypted under a key",
    params: &common::DATA_KEY_PARAMS,
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let out = common::generate_data_key(service, params).await?;
    let plaintext = std::str::from_utf8(out.plaintext_base64.expose_secret()).unwrap_or_default();
    Ok(common::fields(json!({
        "KeyId": out.key_id,
        "KeyVersionId": out.version_id,
        "CiphertextBlob": common::B64.encode(&out.blob),
        "Plaintext": plaintext,
    })))
}
