//! ReEncrypt on the wire: move a ciphertext to another key (and context) without the
//! plaintext leaving the server.
//!
//! Parameters: `CiphertextBlob`, `SourceEncryptionContext`, `DestinationKeyId`,
//! `DestinationEncryptionContext`, and for an asymmetric source (next-surfaces §3.7)
//! `SourceKeyId`, `SourceKeyVersionId` and `SourceEncryptionAlgorithm` (`RSAES_OAEP_SHA_256`,
//! `RSAES_OAEP_SHA_1`, `SM2PKE`): naming any of the three makes the source a key pair, and
//! then all three are required and `CiphertextBlob` is base64 of the bare asymmetric
//! ciphertext (as AsymmetricDecrypt takes it; `SourceEncryptionContext` does not apply).
//! Reply: `KeyId`, `KeyVersionId` (the destination's), `CiphertextBlob`.

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_core::service::ReEncryptOutput;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::{ReEncrypt, ReEncryptSource};

use super::pair;
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
            optional(
                "SourceKeyId",
                "an asymmetric source: the key pair whose public key made CiphertextBlob",
            ),
            optional(
                "SourceKeyVersionId",
                "an asymmetric source: the key pair version",
            ),
            optional(
                "SourceEncryptionAlgorithm",
                "an asymmetric source: RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1 or SM2PKE",
            ),
            crate::codec::spec::DRY_RUN,
        ],
    };
    type Reply<'a> = Sealed<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let blob = request::decode_blob(params.required("CiphertextBlob")?)?;
        let source = match names_pair(params) {
            true => ReEncryptSource::Pair {
                key: kms.parse_key_ref(params.required("SourceKeyId")?)?,
                version_id: params.required("SourceKeyVersionId")?.to_owned(),
                algorithm: pair::encrypt_algorithm_in(params, "SourceEncryptionAlgorithm")?,
            },
            false => ReEncryptSource::Blob {
                context: request::json_context(params, "SourceEncryptionContext")?,
            },
        };
        let destination = kms.parse_key_ref(params.required("DestinationKeyId")?)?;
        let destination_context = request::json_context(params, "DestinationEncryptionContext")?;
        Ok(Self {
            blob,
            source,
            destination,
            destination_context,
        })
    }

    fn encode<'a>(out: &'a ReEncryptOutput, _: &KeyService) -> Result<Sealed<'a>, RpcError> {
        Ok(Sealed::of(&out.sealed))
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        let source = match names_pair(params) {
            true => lenient::key(params, call, "SourceKeyId", None),
            false => lenient::ciphertext(params, call, "SourceEncryptionContext"),
        };
        vec![
            source,
            lenient::key(
                params,
                call,
                "DestinationKeyId",
                Some("DestinationEncryptionContext"),
            ),
        ]
    }
}

/// Whether the request names an asymmetric source: any of its three parameters.
fn names_pair(params: &Params) -> bool {
    [
        "SourceKeyId",
        "SourceKeyVersionId",
        "SourceEncryptionAlgorithm",
    ]
    .iter()
    .any(|name| params.optional(name).is_some())
}
