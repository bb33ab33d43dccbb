//! What the tag actions' codecs share: the JSON `Tags` of TagResource (and CreateKey), the
//! repeat lists of TagResources, UntagResources and ListTagResources (`ResourceType`,
//! `ResourceId.N`, `Tag.N.Key`/`Tag.N.Value`, `TagKey.N`), and their error codes.
//!
//! A repeat-list index is canonical decimal (`0`, `1`, … `10`: no leading zero, sign or
//! space); anything else is `InvalidParameter` naming the list, so one index names one item
//! and a list is read once. Unknown resources are `InvalidResourceId.NotFound`; a tag key
//! given twice is `Duplicate.TagKey`. How many items a list may have is checked before
//! authentication, with every parameter's size (`codec::bounds`); more than 20 tags (counted
//! by index) is checked here.

use std::collections::{BTreeMap, BTreeSet};

use openkms_core::{Field, InvalidReason, KeyRef, KeyService, KmsError, Tag};

use crate::codec::bounds::MAX_LIST_TAGS;
use crate::codec::request::canonical_index;
use crate::rpc::{Params, RpcError};

/// One item of a repeat list: its index, the field after the index (`Key` of `Tag.1.Key`,
/// empty for `ResourceId.1`) and the value.
pub type Item<'a> = (u32, &'a str, &'a str);

/// The items of the repeat list `name` (`name.1`, `name.2`, …) in index order (items with
/// the same index in arrival order); a non-canonical index is `InvalidParameter` `name`.
pub fn repeat_list<'a>(params: &'a Params, name: &'static str) -> Result<Vec<Item<'a>>, RpcError> {
    let prefix = format!("{name}.");
    let mut items = params
        .with_prefix(&prefix)
        .map(|(rest, value)| {
            let (index, field) = rest.split_once('.').unwrap_or((rest, ""));
            let index = canonical_index(index).ok_or(RpcError::invalid(name))?;
            Ok((index, field, value))
        })
        .collect::<Result<Vec<Item<'a>>, RpcError>>()?;
    items.sort_by_key(|(index, _, _)| *index);
    Ok(items)
}

/// The secrets named by `ResourceId.N` when `ResourceType` is `secret` (names or secret
/// ARNs), `None` for another type; `required` makes an empty list a `MissingParameter`.
pub fn secret_resources(
    params: &Params,
    kms: &KeyService,
    required: bool,
) -> Result<Option<Vec<String>>, RpcError> {
    if !params
        .required("ResourceType")?
        .eq_ignore_ascii_case("secret")
    {
        return Ok(None);
    }
    let ids = repeat_list(params, "ResourceId")?;
    if required && ids.is_empty() {
        return Err(RpcError::MissingParameter("ResourceId.1"));
    }
    let names = ids.into_iter().map(|(_, _, id)| kms.parse_secret_name(id));
    Ok(Some(names.collect::<Result<_, _>>()?))
}

/// The keys named by `ResourceId.N` of `ResourceType` `key`, read as key references (an
/// unreadable one, or an ARN of another account or region, is as unknown as a missing key);
/// `required` makes an empty list a `MissingParameter`.
pub fn resources(
    params: &Params,
    kms: &KeyService,
    required: bool,
) -> Result<Vec<KeyRef>, RpcError> {
    if !params.required("ResourceType")?.eq_ignore_ascii_case("key") {
        return Err(RpcError::invalid("ResourceType"));
    }
    let ids = repeat_list(params, "ResourceId")?;
    if required && ids.is_empty() {
        return Err(RpcError::MissingParameter("ResourceId.1"));
    }
    ids.into_iter()
        .map(|(_, _, id)| kms.parse_key_ref(id).map_err(not_found))
        .collect()
}

/// The tags of `Tag.N.Key` / `Tag.N.Value` (a missing value is empty), at most
/// [`MAX_LIST_TAGS`]; a key given twice is `Duplicate.TagKey`. Indexes and keys are looked up
/// in ordered maps, so a list of n items costs O(n log n) (the screen has already bounded n).
pub fn tag_list(params: &Params) -> Result<Vec<Tag>, RpcError> {
    let mut by_index: BTreeMap<u32, Tag> = BTreeMap::new();
    for (index, field, value) in repeat_list(params, "Tag")? {
        let tag = by_index.entry(index).or_insert_with(empty_tag);
        match field {
            "Key" => tag.key = value.to_owned(),
            "Value" => tag.value = value.to_owned(),
            _ => return Err(RpcError::invalid("Tag")),
        }
    }
    if by_index.len() > MAX_LIST_TAGS {
        let max = MAX_LIST_TAGS;
        return Err(RpcError::invalid_because(
            "Tag",
            InvalidReason::TooLong { max },
        ));
    }
    let tags: Vec<Tag> = by_index.into_values().collect();
    let mut keys = BTreeSet::new();
    for t in &tags {
        if t.key.is_empty() {
            return Err(RpcError::invalid("Tag"));
        }
        if !keys.insert(t.key.as_str()) {
            return Err(RpcError::DuplicateTagKey);
        }
    }
    Ok(tags)
}

fn empty_tag() -> Tag {
    Tag {
        key: String::new(),
        value: String::new(),
    }
}

/// The values of `TagKey.N`, in index order.
pub fn tag_keys(params: &Params) -> Result<Vec<String>, RpcError> {
    let items = repeat_list(params, "TagKey")?;
    Ok(items.into_iter().map(|(_, _, v)| v.to_owned()).collect())
}

/// `Tags`: `[{"TagKey":"k","TagValue":"v"}, …]` (a missing `TagValue` is empty), as
/// TagResource and CreateKey take it.
pub fn json_tags(text: &str) -> Result<Vec<Tag>, RpcError> {
    let bad = || RpcError::invalid("Tags");
    let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|_| bad())?;
    items
        .iter()
        .map(|item| {
            let key = item
                .get("TagKey")
                .and_then(|v| v.as_str())
                .ok_or_else(bad)?;
            let value = item.get("TagValue").and_then(|v| v.as_str()).unwrap_or("");
            Ok(Tag {
                key: key.to_owned(),
                value: value.to_owned(),
            })
        })
        .collect()
}

/// The repeat-list actions' code for a key that is not there: `InvalidResourceId.NotFound`.
pub fn not_found(e: KmsError) -> RpcError {
    match e {
        KmsError::KeyNotFound | KmsError::AliasNotFound => RpcError::ResourceNotFound,
        other => other.into(),
    }
}

/// TagResources's codes (Appendix A): `InvalidParameter.TagKey` and
/// `InvalidParameter.TagValue` instead of the generic `InvalidParameter`, and
/// `InvalidResourceId.NotFound` for a key that is not there.
pub fn tag_error(e: KmsError) -> RpcError {
    match e {
        KmsError::InvalidParameter {
            field: Field::TagKey,
            ..
        } => RpcError::InvalidTagKey,
        KmsError::InvalidParameter {
            field: Field::TagValue,
            ..
        } => RpcError::InvalidTagValue,
        other => not_found(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let pairs = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into()));
        Params::from_pairs(pairs.collect())
    }

    fn refused(pairs: &[(&str, &str)], list: &'static str) {
        let params = params(pairs);
        let result = repeat_list(&params, list);
        assert!(
            matches!(result, Err(RpcError::InvalidParameter(name)) if name == list),
            "{pairs:?}"
        );
    }

    #[test]
    fn indexes_are_canonical_decimal() {
        for bad in [
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "",
            "x",
            "1e3",
            "00",
            "4294967296",
        ] {
            refused(&[(&format!("ResourceId.{bad}"), "k")], "ResourceId");
            refused(&[(&format!("Tag.{bad}.Key"), "k")], "Tag");
            refused(&[(&format!("TagKey.{bad}"), "k")], "TagKey");
        }
        let p = params(&[
            ("ResourceId.10", "c"),
            ("ResourceId.2", "b"),
            ("ResourceId.0", "z"),
            ("ResourceId.1", "a"),
            ("Tags", "[]"),
        ]);
        let ids: Vec<&str> = repeat_list(&p, "ResourceId")
            .unwrap()
            .into_iter()
            .map(|(_, _, v)| v)
            .collect();
        assert_eq!(ids, ["z", "a", "b", "c"]);
    }

    #[test]
    fn tag_lists_pair_keys_and_values() {
        let p = params(&[("Tag.2.Value", "2"), ("Tag.1.Key", "a"), ("Tag.2.Key", "b")]);
        let tags = tag_list(&p).unwrap();
        assert_eq!((tags[0].key.as_str(), tags[0].value.as_str()), ("a", ""));
        assert_eq!((tags[1].key.as_str(), tags[1].value.as_str()), ("b", "2"));
        let dup = params(&[("Tag.1.Key", "a"), ("Tag.2.Key", "a")]);
        assert!(matches!(tag_list(&dup), Err(RpcError::DuplicateTagKey)));
        let gap = params(&[("Tag.7.Key", "b"), ("Tag.3.Key", "a"), ("Tag.7.Value", "2")]);
        let keys: Vec<String> = tag_list(&gap).unwrap().into_iter().map(|t| t.key).collect();
        assert_eq!(keys, ["a", "b"], "index order");
        let bad = params(&[("Tag.1.Name", "a")]);
        assert!(matches!(
            tag_list(&bad),
            Err(RpcError::InvalidParameter("Tag"))
        ));
    }

    #[test]
    fn tag_lists_hold_at_most_twenty_tags() {
        let names: Vec<(String, String)> = (1..=21)
            .map(|i| (format!("Tag.{i}.Key"), format!("k{i}")))
            .collect();
        let pairs: Vec<(&str, &str)> = names
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let refused = tag_list(&params(&pairs)).unwrap_err().wire();
        assert_eq!(refused.code, "InvalidParameter");
        assert!(refused.message.contains("20"), "{}", refused.message);
        assert_eq!(tag_list(&params(&pairs[..20])).unwrap().len(), 20);
    }
}
