//! ListTagResources on the wire: tags of keys, in the repeat-list form.
//!
//! Parameters: `RegionId`, `ResourceType` (`key`), `ResourceId.N` (default: every key),
//! `Tag.N.Key`/`Tag.N.Value` (only these tags), `NextToken`. Reply:
//! `TagResources.TagResource[]` of `ResourceType`, `ResourceId`, `TagKey`, `TagValue`, and an
//! empty `NextToken` (everything fits one reply).

use crate::codec::lenient;
use openkms_core::{KeyService, KmsError};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::{KeyTags, ListTagResources};
use serde::Serialize;

use super::tags;
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::rpc::{Params, RpcError};

/// ListTagResources's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourcesReply<'a> {
    tag_resources: Rows<'a>,
    /// Always empty: every row fits one reply.
    next_token: &'static str,
}

/// The `TagResource` list wrapper.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rows<'a> {
    tag_resource: Vec<Row<'a>>,
}

/// One tag of one key.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Row<'a> {
    resource_type: &'static str,
    resource_id: &'a str,
    tag_key: &'a str,
    tag_value: &'a str,
}

impl Wire for ListTagResources {
    const SPEC: ActionSpec = ActionSpec {
        about: "List tags of keys (ResourceId.N, Tag.N.Key)",
        params: &[
            required("RegionId", "the region, as configured on the server"),
            required("ResourceType", "key"),
            optional("NextToken", "the token of the previous page"),
        ],
    };
    type Reply<'a> = TagResourcesReply<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let keys = tags::resources(params, kms, false)?;
        let filter = tags::tag_list(params)?;
        Ok(Self { keys, filter })
    }

    fn encode<'a>(
        out: &'a Vec<KeyTags>,
        _: &KeyService,
    ) -> Result<TagResourcesReply<'a>, RpcError> {
        let rows = out.iter().flat_map(|key| {
            key.tags.iter().map(|t| Row {
                resource_type: "key",
                resource_id: &key.key_id,
                tag_key: &t.key,
                tag_value: &t.value,
            })
        });
        Ok(TagResourcesReply {
            tag_resources: Rows {
                tag_resource: rows.collect(),
            },
            next_token: "",
        })
    }

    fn error(e: KmsError) -> RpcError {
        tags::not_found(e)
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        lenient::resource_ids(params, call)
    }
}
