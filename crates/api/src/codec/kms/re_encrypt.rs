//! ReEncrypt on the wire: move a ciphertext to another key (and context) without the
//! plaintext leaving the server.
//!
//! Parameters: `CiphertextBlob`, `SourceEncryptionContext`, `DestinationKeyId`,
//! `DestinationEncryptionContext` (`SourceKeyId`/`SourceKeyVersionId`/
//! `SourceEncryptionAlgorithm` are for asymmetric sources, which this server does not hold).
//! Reply: `KeyId`, `KeyVersionId` (the destination's), `CiphertextBlob`.

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_core::service::EncryptOutput;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::ReEncrypt;

use crate::codec::Wire;
use crate::codec::request;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::codec::values::Sealed;
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
            crate::codec::spec::DRY_RUN,
        ],
    };
    type Reply<'a> = Sealed<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let blob = request::decode_blob(params.required("CiphertextBlob")?)?;
        let source_context = request::json_context(params, "SourceEncryptionContext")?;
        let destination = kms.parse_key_ref(params.required("DestinationKeyId")?)?;
        let destination_context = request::json_context(params, "DestinationEncryptionContext")?;
        Ok(Self {
            blob,
            source_context,
            destination,
            destination_context,
        })
    }

    fn encode<'a>(out: &'a EncryptOutput, _: &KeyService) -> Result<Sealed<'a>, RpcError> {
        Ok(Sealed::of(out))
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![
            lenient::ciphertext(params, call, "SourceEncryptionContext"),
            lenient::key(
                params,
                call,
                "DestinationKeyId",
                Some("DestinationEncryptionContext"),
            ),
        ]
    }
}
