//! ListTagResources on the wire: tags of keys, in the repeat-list form.
//!
//! Parameters: `RegionId`, `ResourceType` (`key`, or `secret` naming secrets), `ResourceId.N` (default: every key),
//! `Tag.N.Key`/`Tag.N.Value` (only these tags), `NextToken`. Reply:
//! `TagResources.TagResource[]` of `ResourceType`, `ResourceId`, `TagKey`, `TagValue`, and
//! `NextToken`. Naming keys lists their tags in one reply (empty `NextToken`; a `NextToken`
//! sent is ignored). Naming none lists every key's tags by key id then tag key, at most
//! `TAG_PAGE_ROWS` rows a reply; `NextToken` is then the opaque cursor of the next page
//! (sealed, see `codec::cursor`), empty on the last, and a token that is not one is
//! `InvalidParameter`.

use crate::codec::lenient;
use openkms_core::{KeyService, KmsError, TagCursor};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::{ListTagResources, TagListing};
use serde::Serialize;

use super::tags;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::codec::{Wire, cursor};
use crate::rpc::{Params, RpcError};

/// ListTagResources's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourcesReply<'a> {
    tag_resources: Rows<'a>,
    /// The next page's token; empty on the last page.
    next_token: String,
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
            required("ResourceType", "key, or secret (ResourceId.N required)"),
            optional("NextToken", "the token of the previous page"),
        ],
    };
    type Reply<'a> = TagResourcesReply<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let secrets = tags::secret_resources(params, kms, true)?;
        let keys = match secrets {
            Some(_) => vec![],
            None => tags::resources(params, kms, false)?,
        };
        let secrets = secrets.unwrap_or_default();
        let filter = tags::tag_list(params)?;
        let after = match (keys.is_empty(), params.optional("NextToken")) {
            (true, Some(token)) if !token.is_empty() => {
                Some(after_tag(kms, token).ok_or(RpcError::invalid("NextToken"))?)
            }
            _ => None,
        };
        Ok(Self {
            keys,
            filter,
            after,
            secrets,
        })
    }

    fn encode<'a>(
        out: &'a TagListing,
        kms: &KeyService,
    ) -> Result<TagResourcesReply<'a>, RpcError> {
        let rows = out.keys.iter().flat_map(|key| {
            key.tags.iter().map(|t| Row {
                resource_type: if out.secrets { "secret" } else { "key" },
                resource_id: &key.key_id,
                tag_key: &t.key,
                tag_value: &t.value,
            })
        });
        Ok(TagResourcesReply {
            tag_resources: Rows {
                tag_resource: rows.collect(),
            },
            next_token: out
                .next
                .as_ref()
                .map(|next| token(kms, next))
                .unwrap_or_default(),
        })
    }

    fn error(e: KmsError) -> RpcError {
        tags::not_found(e)
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        lenient::resource_ids(params, call)
    }
}

/// The `NextToken` of the page after `cursor` (sealed: the key id it holds may be one the
/// caller is refused).
fn token(kms: &KeyService, cursor: &TagCursor) -> String {
    cursor::encode(kms, "tags", &[&cursor.key_id, &cursor.tag_key])
}

/// The cursor a `NextToken` names.
fn after_tag(kms: &KeyService, token: &str) -> Option<TagCursor> {
    let mut parts = cursor::decode(kms, token, "tags", 2)?;
    let tag_key = parts.pop()?;
    let key_id = parts.pop()?;
    Some(TagCursor { key_id, tag_key })
}
