//! Encrypt (§6.3) on the wire.
//!
//! Parameters: `KeyId`, `Plaintext` (required; an opaque string whose UTF-8 bytes are sealed
//! and given back unchanged by Decrypt), `EncryptionContext` (optional, JSON or flattened).
//! Reply: `KeyId` (the real id), `KeyVersionId`, `CiphertextBlob` (base64).

use openkms_core::service::EncryptOutput;
use openkms_core::{KeyService, SecretBytes};
use openkms_ops::kms::Encrypt;

use crate::codec::Wire;
use crate::codec::request;
use crate::codec::spec::{self, ActionSpec, required};
use crate::codec::values::Sealed;
use crate::rpc::{Params, RpcError};

impl Wire for Encrypt {
    const SPEC: ActionSpec = ActionSpec {
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
    type Reply<'a> = Sealed<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let plaintext = SecretBytes::new(params.required("Plaintext")?.as_bytes().to_vec());
        let context = request::encryption_context(params)?;
        Ok(Self {
            key,
            plaintext,
            context,
        })
    }

    fn encode<'a>(out: &'a EncryptOutput, _: &KeyService) -> Result<Sealed<'a>, RpcError> {
        Ok(Sealed::of(out))
    }
}
