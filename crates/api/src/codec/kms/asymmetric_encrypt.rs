//! AsymmetricEncrypt (next-surfaces §3.6) on the wire.
//!
//! Parameters: `KeyId`, `KeyVersionId`, `Algorithm`, `Plaintext` (base64 of the raw bytes;
//! all required), `DryRun`. Reply: `KeyId`, `KeyVersionId`, `CiphertextBlob` — base64 of the
//! bare standard ciphertext, with no KMS header (so AsymmetricDecrypt needs the key and
//! version again).

use openkms_core::service::PairBytesOutput;
use openkms_core::{KeyService, SecretBytes};
use openkms_ops::kms::AsymmetricEncrypt;

use super::pair::{self, ENCRYPT_ALGORITHM, Encrypted, KEY_VERSION_ID};
use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, required};
use crate::rpc::{Params, RpcError};

impl Wire for AsymmetricEncrypt {
    const SPEC: ActionSpec = ActionSpec {
        about: "Encrypt a small plaintext with the public key of an asymmetric key version",
        params: &[
            spec::KEY_ID,
            KEY_VERSION_ID,
            ENCRYPT_ALGORITHM,
            required(
                "Plaintext",
                "base64 of the data: at most 190 bytes (RSA_2048, OAEP SHA-256), 6047 (SM2PKE)",
            ),
            spec::DRY_RUN,
        ],
    };
    type Reply<'a> = Encrypted<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        Ok(Self {
            key,
            version_id: pair::version_id(params)?,
            algorithm: pair::encrypt_algorithm(params)?,
            plaintext: SecretBytes::new(pair::base64(params, "Plaintext")?),
        })
    }

    fn encode<'a>(out: &'a PairBytesOutput, _: &KeyService) -> Result<Encrypted<'a>, RpcError> {
        Ok(Encrypted {
            key_id: &out.version.key_id,
            key_version_id: &out.version.version_id,
            ciphertext_blob: pair::encode(&out.bytes),
        })
    }
}
