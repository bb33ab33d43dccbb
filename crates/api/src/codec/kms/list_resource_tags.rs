//! ListResourceTags on the wire: a key's tags.
//!
//! Parameters: `KeyId`. Reply: `Tags.Tag[]` of `KeyId`, `TagKey`, `TagValue`.

use openkms_core::KeyService;
use openkms_ops::kms::{KeyTags, ListResourceTags};
use serde::Serialize;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec};
use crate::rpc::{Params, RpcError};

/// ListResourceTags's reply: `{"Tags":{"Tag":[…]}}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tags<'a> {
    tags: TagList<'a>,
}

/// The `Tag` list wrapper.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagList<'a> {
    tag: Vec<KeyTag<'a>>,
}

/// One tag of the key.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyTag<'a> {
    key_id: &'a str,
    tag_key: &'a str,
    tag_value: &'a str,
}

impl Wire for ListResourceTags {
    const SPEC: ActionSpec = ActionSpec {
        about: "List a key's tags",
        params: &[spec::KEY_ID],
    };
    type Reply<'a> = Tags<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        Ok(Self { key })
    }

    fn encode<'a>(out: &'a KeyTags, _: &KeyService) -> Result<Tags<'a>, RpcError> {
        let tag = out.tags.iter().map(|t| KeyTag {
            key_id: &out.key_id,
            tag_key: &t.key,
            tag_value: &t.value,
        });
        Ok(Tags {
            tags: TagList { tag: tag.collect() },
        })
    }
}
