//! ImportKeyMaterial (next-surfaces §4.4) on the wire.
//!
//! Parameters: `KeyId`, `EncryptedKeyMaterial` (base64 of the wrapped raw key: 32 bytes for
//! `Aliyun_AES_256`, 16 for `Aliyun_SM4`), `ImportToken` (as GetParametersForImport gave it),
//! `KeyMaterialExpireUnix` (Unix seconds; absent or 0: never). Bad base64 or a
//! `KeyMaterialExpireUnix` that is not plain ASCII digits (no sign, no spaces, at most 19) is
//! `InvalidParameter` naming it. Reply: `RequestId`.

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
        let expire_unix = expire_unix(params.optional("KeyMaterialExpireUnix"))?;
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

/// The most digits `KeyMaterialExpireUnix` may have (an `i64` has 19).
const MAX_EXPIRE_DIGITS: usize = 19;

/// `KeyMaterialExpireUnix`: absent or empty is 0 (never); otherwise plain ASCII digits only
/// (the core checks the range), else `InvalidParameter`.
fn expire_unix(text: Option<&str>) -> Result<i64, RpcError> {
    let refused = || RpcError::invalid("KeyMaterialExpireUnix");
    match text {
        None | Some("") => Ok(0),
        Some(t) if t.len() <= MAX_EXPIRE_DIGITS && t.bytes().all(|b| b.is_ascii_digit()) => {
            t.parse::<i64>().map_err(|_| refused())
        }
        Some(_) => Err(refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_unix_takes_plain_digits_only() {
        assert_eq!(expire_unix(None).ok(), Some(0));
        assert_eq!(expire_unix(Some("")).ok(), Some(0));
        assert_eq!(expire_unix(Some("0")).ok(), Some(0));
        assert_eq!(expire_unix(Some("1900000000")).ok(), Some(1_900_000_000));
        for bad in [
            "+1900000000",
            " 1900000000",
            "1900000000 ",
            "-5",
            "1e9",
            "１２",
            "99999999999999999999",
            "9999999999999999999",
        ] {
            assert!(expire_unix(Some(bad)).is_err(), "{bad:?} is refused");
        }
    }
}
