//! UntagResources on the wire: remove tags from several keys at once (repeat-list form).
//!
//! Parameters: `RegionId`, `ResourceType` (`key`, or `secret` with secret names), `ResourceId.N`, `TagKey.N`, `All` (remove
//! every tag). Reply: `RequestId`.

use crate::codec::lenient;
use openkms_core::{KeyService, KmsError};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::{TagKeys, UntagResources};

use super::tags;
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for UntagResources {
    const SPEC: ActionSpec = ActionSpec {
        about: "Remove tags from several keys (ResourceId.N, TagKey.N)",
        params: &[
            required("RegionId", "the region, as configured on the server"),
            required("ResourceType", "key or secret"),
            optional("All", "true to remove every tag"),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let secrets = tags::secret_resources(params, kms, true)?;
        let keys = match secrets {
            Some(_) => vec![],
            None => tags::resources(params, kms, true)?,
        };
        let all = params.bool_or("All", false)?;
        let named = tags::tag_keys(params)?;
        let tag_keys = match all {
            true => TagKeys::All,
            false => TagKeys::Named(named),
        };
        let secrets = secrets.unwrap_or_default();
        Ok(Self {
            keys,
            tag_keys,
            secrets,
        })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }

    fn error(e: KmsError) -> RpcError {
        tags::not_found(e)
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        lenient::resource_ids(params, call)
    }
}
