//! UpdateSecret on the wire.
//!
//! Parameters: `SecretName` (required), `Description`, and `ExtendedConfig.CustomData` (the
//! old SDK's JSON string) or `ExtendedConfig.CustomData.<k>` (Tea's flattened form): managed
//! types only, ignored for a Generic secret (§5.7). Reply: `SecretName`.

use openkms_core::KeyService;
use openkms_ops::secrets::UpdateSecret;
use openkms_ops::{Call, Touch};

use super::{NameOnly, SECRET_NAME, fallback, secret_name};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional};
use crate::rpc::{Params, RpcError};

impl Wire for UpdateSecret {
    const SPEC: ActionSpec = ActionSpec {
        about: "Change a secret's description",
        params: &[
            SECRET_NAME,
            optional("Description", "the new description"),
            optional("ExtendedConfig.CustomData", "managed types only; ignored"),
        ],
    };
    type Reply<'a> = NameOnly<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        Ok(Self {
            name: secret_name(params, kms)?,
            description: params.get("Description").map(str::to_owned),
        })
    }

    fn encode<'a>(name: &'a String, _: &KeyService) -> Result<NameOnly<'a>, RpcError> {
        Ok(NameOnly { secret_name: name })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
