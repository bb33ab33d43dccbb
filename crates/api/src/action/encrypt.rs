//! Encrypt (§6.3): seal up to 6 KB under a key named by id, alias or ARN.
//!
//! Parameters: `KeyId`, `Plaintext` (required; an opaque string whose UTF-8 bytes are sealed
//! and given back unchanged by Decrypt), `EncryptionContext` (optional, JSON or flattened).
//! Reply: `KeyId` (the real id), `KeyVersionId`, `CiphertextBlob` (base64).

use base64::Engine as _;
use openkms_core::KeyService;
use serde_json::json;

use super::spec::{self, ActionSpec, required};
use super::{Fields, common};

use crate::rpc::{Params, RpcError};

/// What Encrypt accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Encrypt up to 6 KB of data under a key",
    params: &[
        spec::KEY_ID,
        required(
            "Plaintext",
            "the data, up to 6144 bytes; Decrypt returns it unchanged",
        ),
        spec::ENCRYPTION_CONTEXT,
        spec::DRY_RUN,
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key = service.parse_key_ref(params.required("KeyId")?)?;
    let plaintext = params.required("Plaintext")?;
    let context = common::encryption_context(params)?;
    let out = service
        .encrypt(&key, plaintext.as_bytes(), &context)
        .await?;
    Ok(common::fields(json!({
        "KeyId": out.key_id,
        "KeyVersionId": out.version_id,
        "CiphertextBlob": common::B64.encode(&out.blob),
    })))
}
