//! Decrypt (§6.4) on the wire.
//!
//! Parameters: `CiphertextBlob` (required), `EncryptionContext` (must equal the one used to
//! encrypt, compared as a map). Reply: `KeyId`, `KeyVersionId`, `Plaintext` — the exact
//! string given to Encrypt. Every way a blob can fail is one `InvalidParameter` reply.

use crate::codec::lenient;
use openkms_core::service::DecryptOutput;
use openkms_core::{KeyService, KmsError};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::Decrypt;
use serde::Serialize;

use crate::codec::Wire;
use crate::codec::request;
use crate::codec::spec::{self, ActionSpec, required};
use crate::rpc::{Params, RpcError};

/// Decrypt's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Opened<'a> {
    key_id: &'a str,
    key_version_id: &'a str,
    plaintext: &'a str,
}

impl Wire for Decrypt {
    const SPEC: ActionSpec = ActionSpec {
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
    type Reply<'a> = Opened<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let blob = request::decode_blob(params.required("CiphertextBlob")?)?;
        let context = request::encryption_context(params)?;
        Ok(Self { blob, context })
    }

    fn encode<'a>(out: &'a DecryptOutput, _: &KeyService) -> Result<Opened<'a>, RpcError> {
        // Encrypt sealed the bytes of a string, so a genuine blob always opens to UTF-8.
        let plaintext = std::str::from_utf8(out.plaintext.expose_secret())
            .map_err(|_| RpcError::Kms(KmsError::InvalidCiphertext))?;
        Ok(Opened {
            key_id: &out.key_id,
            key_version_id: &out.version_id,
            plaintext,
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::ciphertext(params, call, "EncryptionContext")]
    }
}
