//! AsymmetricSign (next-surfaces §3.4) on the wire.
//!
//! Parameters: `KeyId`, `KeyVersionId`, `Algorithm`, `Digest` (all required), `DryRun`.
//! `Digest` is base64 of the 32-byte hash, signed as given (never hashed again). Reply:
//! `KeyId`, `KeyVersionId`, `Value` (base64 of the raw RSA signature, or of DER
//! `SEQUENCE{r,s}` for ECDSA and SM2).

use openkms_core::KeyService;
use openkms_core::service::PairBytesOutput;
use openkms_ops::kms::AsymmetricSign;

use super::pair::{self, DIGEST, KEY_VERSION_ID, SIGN_ALGORITHM, Signed};
use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec};
use crate::rpc::{Params, RpcError};

impl Wire for AsymmetricSign {
    const SPEC: ActionSpec = ActionSpec {
        about: "Sign a message digest with a version of an asymmetric key",
        params: &[
            spec::KEY_ID,
            KEY_VERSION_ID,
            SIGN_ALGORITHM,
            DIGEST,
            spec::DRY_RUN,
        ],
    };
    type Reply<'a> = Signed<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        Ok(Self {
            key,
            version_id: pair::version_id(params)?,
            algorithm: pair::sign_algorithm(params)?,
            digest: pair::base64(params, "Digest")?,
        })
    }

    fn encode<'a>(out: &'a PairBytesOutput, _: &KeyService) -> Result<Signed<'a>, RpcError> {
        Ok(Signed {
            key_id: &out.version.key_id,
            key_version_id: &out.version.version_id,
            value: pair::encode(&out.bytes),
        })
    }
}
