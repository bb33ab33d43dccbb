//! GenerateDataKey (§6.5) on the wire.
//!
//! Parameters: `KeyId`, `KeySpec` (`AES_256` default, `AES_128`) or `NumberOfBytes`
//! (1-1024, wins over `KeySpec`), `EncryptionContext`. Reply: `KeyId`, `KeyVersionId`,
//! `CiphertextBlob`, `Plaintext` (base64 of the data key).

use openkms_core::service::DataKeyOutput;
use openkms_core::{InvalidReason, KeyService};
use openkms_ops::kms::GenerateDataKey;
use serde::Serialize;

use crate::codec::Wire;
use crate::codec::request;
use crate::codec::spec::ActionSpec;
use crate::codec::values::Base64;
use crate::rpc::{Params, RpcError};

/// GenerateDataKey's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataKey<'a> {
    key_id: &'a str,
    key_version_id: &'a str,
    ciphertext_blob: Base64<'a>,
    plaintext: &'a str,
}

impl Wire for GenerateDataKey {
    const SPEC: ActionSpec = ActionSpec {
        about: "Generate a data key, returned in the clear and encrypted under a key",
        params: &crate::codec::spec::DATA_KEY_PARAMS,
    };
    type Reply<'a> = DataKey<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let len = data_key_len(params)?;
        let context = request::encryption_context(params)?;
        Ok(Self { key, len, context })
    }

    fn encode<'a>(out: &'a DataKeyOutput, _: &KeyService) -> Result<DataKey<'a>, RpcError> {
        let plaintext =
            std::str::from_utf8(out.plaintext_base64.expose_secret()).unwrap_or_default();
        Ok(DataKey {
            key_id: &out.key_id,
            key_version_id: &out.version_id,
            ciphertext_blob: Base64(&out.blob),
            plaintext,
        })
    }
}

/// `NumberOfBytes` (1-1024) if given, else `KeySpec` (`AES_256` = 32, `AES_128` = 16), else 32.
fn data_key_len(params: &Params) -> Result<usize, RpcError> {
    if let Some(n) = params.optional("NumberOfBytes") {
        // The range is the service's rule; here only the number is read.
        return n.parse().map_err(|_| RpcError::invalid("NumberOfBytes"));
    }
    match params.optional("KeySpec") {
        None | Some("AES_256") => Ok(32),
        Some("AES_128") => Ok(16),
        Some(_) => Err(RpcError::invalid_because(
            "KeySpec",
            InvalidReason::NotAccepted,
        )),
    }
}
