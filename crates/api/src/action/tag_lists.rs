//! The repeat-list parameters of TagResources, UntagResources and ListTagResources:
//! `ResourceType`, `ResourceId.N`, `Tag.N.Key`/`Tag.N.Value`.
//!
//! Unknown resources are `InvalidResourceId.NotFound`; a tag key given twice is
//! `Duplicate.TagKey`.

use openkms_core::{KeyService, KmsError, Tag};

use super::common;
use crate::rpc::{Params, RpcError};

/// The key ids named by `ResourceId.N`, each checked to exist; `required` makes an empty list
/// a `MissingParameter`.
pub async fn resources(
    service: &KeyService,
    params: &Params,
    required: bool,
) -> Result<Vec<String>, RpcError> {
    if !params.required("ResourceType")?.eq_ignore_ascii_case("key") {
        return Err(RpcError::invalid("ResourceType"));
    }
    let ids: Vec<String> = common::repeat_list(params, "ResourceId")
        .into_iter()
        .map(|(_, _, v)| v.to_owned())
        .collect();
    if required && ids.is_empty() {
        return Err(RpcError::MissingParameter("ResourceId.1"));
    }
    let mut keys = Vec::with_capacity(ids.len());
    for id in ids {
        let key = service.parse_key_ref(&id).map_err(not_found)?;
        keys.push(service.describe_key(&key).await.map_err(not_found)?.key_id);
    }
    Ok(keys)
}

fn not_found(e: KmsError) -> RpcError {
    match e {
        KmsError::KeyNotFound | KmsError::AliasNotFound => RpcError::ResourceNotFound,
        other => other.into(),
    }
}

/// The repeat-list actions' codes for a refused tag (Appendix A): `InvalidParameter.TagKey`
/// and `InvalidParameter.TagValue` instead of the generic `InvalidParameter`.
pub fn tag_error(e: KmsError) -> RpcError {
    match e {
        KmsError::InvalidParameter { name: "TagKey", .. } => RpcError::InvalidTagKey,
        KmsError::InvalidParameter {
            name: "TagValue", ..
        } => RpcError::InvalidTagValue,
        other => other.into(),
    }
}

/// The tags of `Tag.N.Key` / `Tag.N.Value`; a key given twice is `Duplicate.TagKey`.
pub fn tags(params: &Params) -> Result<Vec<Tag>, RpcError> {
    let items = common::repeat_list(params, "Tag");
    let mut tags: Vec<(u32, Tag)> = Vec::new();
    for (index, field, value) in items {
        let slot = match tags.iter().position(|(i, _)| *i == index) {
            Some(p) => p,
            None => {
                tags.push((
                    index,
                    Tag {
                        key: String::new(),
                        value: String::new(),
                    },
                ));
                tags.len() - 1
            }
        };
        match field {
            "Key" => tags[slot].1.key = value.to_owned(),
            "Value" => tags[slot].1.value = value.to_owned(),
            _ => return Err(RpcError::invalid("Tag")),
        }
    }
    let tags: Vec<Tag> = tags.into_iter().map(|(_, t)| t).collect();
    for (i, t) in tags.iter().enumerate() {
        if t.key.is_empty() {
            return Err(RpcError::invalid("Tag"));
        }
        if tags[..i].iter().any(|o| o.key == t.key) {
            return Err(RpcError::DuplicateTagKey);
        }
    }
    Ok(tags)
}
