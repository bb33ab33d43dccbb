//! Decrypt (§6.4): open a CiphertextBlob; the key is found from the blob itself.
//!
//! Parameters: `CiphertextBlob` (required), `EncryptionContext` (must equal the one used to
//! encrypt, compared as a map). Reply: `KeyId`, `KeyVersionId`, `Plaintext` — the exact
//! string given to Encrypt. Every way a blob can fail is one `InvalidParameter` reply.

use openkms_core::{KeyService, KmsError};
use serde_json::json;

use super::spec::{self, ActionSpec, required};
use super::{Fields, common};

use crate::rpc::{Params, RpcError};

/// What Decrypt accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Decrypt a CiphertextBlob (the key is found from the blob)",
    params: &[
        required(
            "CiphertextBlob",
            "the base64 blob Encrypt or GenerateDataKey returned",
        ),
        spec::ENCRYPTION_CONTEXT,
        spec::DRY_RUN,
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let blob = common::decode_blob(params.required("CiphertextBlob")?)?;
    let context = common::encryption_context(params)?;
    let out = service.decrypt(&blob, &context).await?;
    // Encrypt sealed the bytes of a string, so a genuine blob always opens to UTF-8.
    let plaintext = std::str::from_utf8(out.plaintext.expose_secret())
        .map_err(|_| RpcError::Kms(KmsError::InvalidCiphertext))?;
    Ok(common::fields(json!({
        "KeyId": out.key_id,
        "KeyVersionId": out.version_id,
        "Plaintext": plaintext,
    })))
}
