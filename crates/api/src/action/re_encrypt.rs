//! ReEncrypt: move a ciphertext to another key (and context) without the plaintext leaving
//! the server.
//!
//! Parameters: `CiphertextBlob`, `SourceEncryptionContext`, `DestinationKeyId`,
//! `DestinationEncryptionContext` (`SourceKeyId`/`SourceKeyVersionId`/
//! `SourceEncryptionAlgorithm` are for asymmetric sources, which this server does not hold).
//! Reply: `KeyId`, `KeyVersionId` (the destination's), `CiphertextBlob`.

use base64::Engine as _;
use openkms_core::KeyService;
use serde_json::json;

use super::spec::{ActionSpec, optional, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What ReEncrypt accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Re-encrypt a ciphertext under another key",
    params: &[
        required("CiphertextBlob", "the blob to move"),
        optional(
            "SourceEncryptionContext",
            "the context the blob was made with",
        ),
        required(
            "DestinationKeyId",
            "the key to encrypt under: id, alias or ARN",
        ),
        optional(
            "DestinationEncryptionContext",
            "the context to bind the new blob to",
        ),
        super::spec::DRY_RUN,
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let blob = common::decode_blob(params.required("CiphertextBlob")?)?;
    let source = common::json_context(params, "SourceEncryptionContext")?;
    let target = service.parse_key_ref(params.required("DestinationKeyId")?)?;
    let dest = common::json_context(params, "DestinationEncryptionContext")?;
    let out = service.re_encrypt(&blob, &source, &target, &dest).await?;
    Ok(common::fields(json!({
        "KeyId": out.key_id,
        "KeyVersionId": out.version_id,
        "CiphertextBlob": common::B64.encode(&out.blob),
    })))
}
