//! UpdateSecretVersionStage on the wire.
//!
//! Parameters: `SecretName`, `VersionStage` (required), `RemoveFromVersion`, `MoveToVersion`
//! (at least one: neither is `MissingParameter` naming `MoveToVersion`). Reply: `SecretName`.

use openkms_core::KeyService;
use openkms_ops::secrets::UpdateSecretVersionStage;
use openkms_ops::{Call, Touch};

use super::{NameOnly, SECRET_NAME, fallback, secret_name};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::rpc::{Params, RpcError};

impl Wire for UpdateSecretVersionStage {
    const SPEC: ActionSpec = ActionSpec {
        about: "Move or remove a stage label of a secret",
        params: &[
            SECRET_NAME,
            required("VersionStage", "the label"),
            optional("RemoveFromVersion", "the version the label leaves"),
            optional("MoveToVersion", "the version the label moves to"),
        ],
    };
    type Reply<'a> = NameOnly<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let remove_from = params.optional("RemoveFromVersion").map(str::to_owned);
        let move_to = params.optional("MoveToVersion").map(str::to_owned);
        if remove_from.is_none() && move_to.is_none() {
            return Err(RpcError::MissingParameter("MoveToVersion"));
        }
        Ok(Self {
            name: secret_name(params, kms)?,
            stage: params.required("VersionStage")?.to_owned(),
            remove_from,
            move_to,
        })
    }

    fn encode<'a>(name: &'a String, _: &KeyService) -> Result<NameOnly<'a>, RpcError> {
        Ok(NameOnly { secret_name: name })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
