//! ReEncrypt on the wire: move a ciphertext to another key (and context) without the
//! plaintext leaving the server.
//!
//! Parameters: `CiphertextBlob`, `SourceEncryptionContext`, `DestinationKeyId`,
//! `DestinationEncryptionContext` (`SourceKeyId`/`SourceKeyVersionId`/
//! `SourceEncryptionAlgorithm` are for asymmetric sources, which this server does not hold).
//! Reply: `KeyId`, `KeyVersionId` (the destination's), `CiphertextBlob`.

use openkms_core::KeyService;
use openkms_core::service::EncryptOutput;
use openkms_ops::kms::ReEncrypt;

use crate::action::common;
use crate::action::spec::{ActionSpec, optional, required};
use crate::codec::Wire;
use crate::codec::values::{Base64, Sealed};
use crate::rpc::{Params, RpcError};

impl Wire for ReEncrypt {
    const SPEC: ActionSpec = ActionSpec {
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
            crate::action::spec::DRY_RUN,
        ],
    };
    type Reply<'a> = Sealed<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let blob = common::decode_blob(params.required("CiphertextBlob")?)?;
        let source_context = common::json_context(params, "SourceEncryptionContext")?;
        let destination = kms.parse_key_ref(params.required("DestinationKeyId")?)?;
        let destination_context = common::json_context(params, "DestinationEncryptionContext")?;
        Ok(Self {
            blob,
            source_context,
            destination,
            destination_context,
        })
    }

    fn encode<'a>(out: &'a EncryptOutput, _: &KeyService) -> Result<Sealed<'a>, RpcError> {
        Ok(Sealed {
            key_id: &out.key_id,
            key_version_id: &out.version_id,
            ciphertext_blob: Base64(&out.blob),
        })
    }
}
