//! TagResources on the wire: the newer, repeat-list form of tagging, for several keys at
//! once.
//!
//! Parameters: `RegionId`, `ResourceType` (`key`, or `secret` with secret names), `ResourceId.N`, `Tag.N.Key`, `Tag.N.Value`.
//! Reply: `RequestId`. Every key is checked before any is tagged.

use crate::codec::lenient;
use openkms_core::{KeyService, KmsError};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::TagResources;

use super::tags;
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for TagResources {
    const SPEC: ActionSpec = ActionSpec {
        about: "Tag several keys (ResourceId.N, Tag.N.Key, Tag.N.Value)",
        params: &[
            required("RegionId", "the region, as configured on the server"),
            required("ResourceType", "key or secret"),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let secrets = tags::secret_resources(params, kms, true)?;
        let keys = match secrets {
            Some(_) => vec![],
            None => tags::resources(params, kms, true)?,
        };
        let tags = tags::tag_list(params)?;
        if tags.is_empty() {
            return Err(RpcError::MissingParameter("Tag.1.Key"));
        }
        let secrets = secrets.unwrap_or_default();
        Ok(Self {
            keys,
            tags,
            secrets,
        })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }

    fn error(e: KmsError) -> RpcError {
        tags::tag_error(e)
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        lenient::resource_ids(params, call)
    }
}
