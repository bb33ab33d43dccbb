//! GetParametersForImport (next-surfaces §4.2) on the wire.
//!
//! Parameters: `KeyId`, `WrappingAlgorithm` (`RSAES_OAEP_SHA_256`, `RSAES_OAEP_SHA_1`,
//! `RSAES_PKCS1_V1_5` with `WrappingKeySpec=RSA_2048`; `SM2PKE` with `EC_SM2`), all required.
//! An unknown value or a pair that does not fit is `InvalidParameter` naming
//! `WrappingAlgorithm`. Reply: `KeyId`, `ImportToken` (opaque), `PublicKey` — bare base64 of
//! the DER SubjectPublicKeyInfo, no PEM armour (not GetPublicKey's PEM) — and
//! `TokenExpireTime` (issue time + 24 h, `YYYY-MM-DDTHH:MM:SSZ`).

use openkms_core::byok::WrappingAlgorithm;
use openkms_core::service::ImportParametersOutput;
use openkms_core::{KeyService, KeySpec};
use openkms_ops::kms::GetParametersForImport;
use serde::Serialize;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, required};
use crate::rpc::{Params, RpcError, dates};

/// GetParametersForImport's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportParametersReply<'a> {
    key_id: &'a str,
    import_token: &'a str,
    public_key: String,
    token_expire_time: String,
}

impl Wire for GetParametersForImport {
    const SPEC: ActionSpec = ActionSpec {
        about: "Get a wrapping public key and an import token for an EXTERNAL key (BYOK)",
        params: &[
            spec::KEY_ID,
            required(
                "WrappingAlgorithm",
                "RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSAES_PKCS1_V1_5 or SM2PKE",
            ),
            required(
                "WrappingKeySpec",
                "RSA_2048 (RSA algorithms) or EC_SM2 (SM2PKE)",
            ),
        ],
    };
    type Reply<'a> = ImportParametersReply<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let algorithm = WrappingAlgorithm::parse(params.required("WrappingAlgorithm")?)
            .ok_or(RpcError::invalid("WrappingAlgorithm"))?;
        let spec = match params.required("WrappingKeySpec")? {
            "RSA_2048" => KeySpec::Rsa2048,
            "EC_SM2" => KeySpec::EcSm2,
            _ => return Err(RpcError::invalid("WrappingKeySpec")),
        };
        if !algorithm.fits(spec) {
            return Err(RpcError::invalid("WrappingAlgorithm"));
        }
        Ok(Self {
            key,
            algorithm,
            spec,
        })
    }

    fn encode<'a>(
        out: &'a ImportParametersOutput,
        _: &KeyService,
    ) -> Result<ImportParametersReply<'a>, RpcError> {
        Ok(ImportParametersReply {
            key_id: &out.key_id,
            import_token: &out.parameters.token,
            public_key: super::pair::encode(&out.parameters.public_key_der),
            token_expire_time: dates::format(out.parameters.expires_at),
        })
    }
}
