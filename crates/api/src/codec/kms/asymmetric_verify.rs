//! AsymmetricVerify (next-surfaces §3.5) on the wire.
//!
//! Parameters: `KeyId`, `KeyVersionId`, `Algorithm`, `Digest`, `Value` (all required),
//! `DryRun`. Reply: `KeyId`, `KeyVersionId`, `Value` — a JSON boolean: a signature that does
//! not verify is `false` with HTTP 200, not an error; only undecodable base64, a digest of
//! the wrong length or an algorithm that does not fit the key are errors.

use openkms_core::KeyService;
use openkms_core::service::VerifyOutput;
use openkms_ops::kms::AsymmetricVerify;
use serde::Serialize;

use super::pair::{self, DIGEST, KEY_VERSION_ID, SIGN_ALGORITHM};
use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, required};
use crate::rpc::{Params, RpcError};

/// AsymmetricVerify's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Verified<'a> {
    key_id: &'a str,
    key_version_id: &'a str,
    value: bool,
}

impl Wire for AsymmetricVerify {
    const SPEC: ActionSpec = ActionSpec {
        about: "Verify a signature over a message digest with a version of an asymmetric key",
        params: &[
            spec::KEY_ID,
            KEY_VERSION_ID,
            SIGN_ALGORITHM,
            DIGEST,
            required("Value", "base64 of the signature to check"),
            spec::DRY_RUN,
        ],
    };
    type Reply<'a> = Verified<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        Ok(Self {
            key,
            version_id: pair::version_id(params)?,
            algorithm: pair::sign_algorithm(params)?,
            digest: pair::base64(params, "Digest")?,
            signature: pair::base64(params, "Value")?,
        })
    }

    fn encode<'a>(out: &'a VerifyOutput, _: &KeyService) -> Result<Verified<'a>, RpcError> {
        Ok(Verified {
            key_id: &out.version.key_id,
            key_version_id: &out.version.version_id,
            value: out.valid,
        })
    }
}
