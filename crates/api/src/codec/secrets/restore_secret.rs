//! RestoreSecret on the wire. Parameters: `SecretName`. Reply: `SecretName`.

use openkms_core::KeyService;
use openkms_ops::secrets::RestoreSecret;
use openkms_ops::{Call, Touch};

use super::{NameOnly, SECRET_NAME, fallback, secret_name};
use crate::codec::Wire;
use crate::codec::spec::ActionSpec;
use crate::rpc::{Params, RpcError};

impl Wire for RestoreSecret {
    const SPEC: ActionSpec = ActionSpec {
        about: "Cancel a secret's scheduled deletion",
        params: &[SECRET_NAME],
    };
    type Reply<'a> = NameOnly<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        Ok(Self {
            name: secret_name(params, kms)?,
        })
    }

    fn encode<'a>(name: &'a String, _: &KeyService) -> Result<NameOnly<'a>, RpcError> {
        Ok(NameOnly { secret_name: name })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
