//! ImportKeyMaterial (next-surfaces §4.4) on the wire.
//!
//! Parameters: `KeyId`, `EncryptedKeyMaterial` (base64 of the wrapped raw key: 32 bytes for
//! `Aliyun_AES_256`, 16 for `Aliyun_SM4`), `ImportToken` (as GetParametersForImport gave it),
//! `KeyMaterialExpireUnix` (Unix seconds; absent or 0: never). Bad base64 or a
//! `KeyMaterialExpireUnix` that is not an integer is `InvalidParameter` naming it. Reply:
//! `RequestId`.

use openkms_core::KeyService;
use openkms_ops::kms::ImportKeyMaterial;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, optional, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for ImportKeyMaterial {
    const SPEC: ActionSpec = ActionSpec {
        about: "Import wrapped key material into an EXTERNAL key (BYOK)",
        params: &[
            spec::KEY_ID,
            required(
                "EncryptedKeyMaterial",
                "base64 of the raw key wrapped with the import PublicKey",
            ),
            required(
                "ImportToken",
                "the token GetParametersForImport returned with it",
            ),
            optional(
                "KeyMaterialExpireUnix",
                "when the material expires, Unix seconds; 0 or absent: never",
            ),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let encrypted = super::pair::base64(params, "EncryptedKeyMaterial")?;
        let token = params.required("ImportToken")?.to_owned();
        let expire_unix = match params.optional("KeyMaterialExpireUnix") {
            None | Some("") => 0,
            Some(text) => text
                .trim()
                .parse::<i64>()
                .map_err(|_| RpcError::invalid("KeyMaterialExpireUnix"))?,
        };
        Ok(Self {
            key,
            encrypted,
            token,
            expire_unix,
        })
    }

    fn encode(_: &String, _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }
}
