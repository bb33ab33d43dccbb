//! AsymmetricDecrypt (next-surfaces §3.6) on the wire.
//!
//! Parameters: `KeyId`, `KeyVersionId`, `Algorithm`, `CiphertextBlob` (base64 of the bare
//! ciphertext; all required), `DryRun`. Reply: `KeyId`, `KeyVersionId`, `Plaintext` (base64
//! of the raw bytes). A ciphertext that does not decrypt is one `InvalidParameter` reply,
//! with no detail.

use openkms_core::service::PairDecryptOutput;
use openkms_core::{KeyService, KmsError};
use openkms_ops::kms::AsymmetricDecrypt;
use serde::Serialize;

use super::pair::{self, ENCRYPT_ALGORITHM, KEY_VERSION_ID};
use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, required};
use crate::rpc::{Params, RpcError};

/// AsymmetricDecrypt's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PairOpened<'a> {
    key_id: &'a str,
    key_version_id: &'a str,
    plaintext: &'a str,
}

impl Wire for AsymmetricDecrypt {
    const SPEC: ActionSpec = ActionSpec {
        about: "Decrypt data encrypted with the public key of an asymmetric key version",
        params: &[
            spec::KEY_ID,
            KEY_VERSION_ID,
            ENCRYPT_ALGORITHM,
            required("CiphertextBlob", "base64 of the ciphertext"),
            spec::DRY_RUN,
        ],
    };
    type Reply<'a> = PairOpened<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let version_id = pair::version_id(params)?;
        let algorithm = pair::encrypt_algorithm(params)?;
        let ciphertext =
            pair::base64(params, "CiphertextBlob").map_err(|_| KmsError::InvalidCiphertext)?;
        Ok(Self {
            key,
            version_id,
            algorithm,
            ciphertext,
        })
    }

    fn encode<'a>(out: &'a PairDecryptOutput, _: &KeyService) -> Result<PairOpened<'a>, RpcError> {
        // Base64 text is ASCII.
        let plaintext = std::str::from_utf8(out.plaintext_base64.expose_secret())
            .map_err(|_| RpcError::Kms(KmsError::Corrupt))?;
        Ok(PairOpened {
            key_id: &out.version.key_id,
            key_version_id: &out.version.version_id,
            plaintext,
        })
    }
}
