//! GetPublicKey (next-surfaces §3.3) on the wire.
//!
//! Parameters: `KeyId`, `KeyVersionId` (both required), `DryRun`. Reply: `KeyId`,
//! `KeyVersionId`, `PublicKey` — PEM SubjectPublicKeyInfo with 64-character lines and a
//! trailing newline (not the bare base64 DER of GetParametersForImport).

use openkms_core::KeyService;
use openkms_core::service::PublicKeyOutput;
use openkms_ops::kms::GetPublicKey;
use serde::Serialize;

use super::pair::{self, KEY_VERSION_ID};
use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec};
use crate::rpc::{Params, RpcError};

/// GetPublicKey's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyReply<'a> {
    key_id: &'a str,
    key_version_id: &'a str,
    public_key: &'a str,
}

impl Wire for GetPublicKey {
    const SPEC: ActionSpec = ActionSpec {
        about: "Get the public key (PEM) of a version of an asymmetric key",
        params: &[spec::KEY_ID, KEY_VERSION_ID, spec::DRY_RUN],
    };
    type Reply<'a> = PublicKeyReply<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let version_id = pair::version_id(params)?;
        Ok(Self { key, version_id })
    }

    fn encode<'a>(
        out: &'a PublicKeyOutput,
        _: &KeyService,
    ) -> Result<PublicKeyReply<'a>, RpcError> {
        Ok(PublicKeyReply {
            key_id: &out.version.key_id,
            key_version_id: &out.version.version_id,
            public_key: &out.pem,
        })
    }
}
