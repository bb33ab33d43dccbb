//! ListSecrets on the wire.
//!
//! Parameters: `PageNumber` (from 1), `PageSize` (1–100, default 10), `FetchTags`, `Filters`
//! (JSON `[{"Key":"SecretName","Values":["a","b"]}]`: at most 10 filters of at most 10
//! values; keys `SecretName`, `Description`, `SecretType`, `TagKey`, `TagValue`; exact,
//! case-sensitive matching, OR within a filter and AND across filters — the matching is not
//! documented by Alibaba, §8.9). Reply: `SecretList.Secret[]` with the paging fields.

use openkms_core::KeyService;
use openkms_core::service::secrets::{FilterKey, SecretFilter};
use openkms_ops::secrets::{ListSecrets, SecretPage};
use openkms_ops::{Call, Touch};
use serde::Serialize;

use super::describe_secret::Metadata;
use super::paging;
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional};
use crate::codec::values::Wrapper;
use crate::rpc::{Params, RpcError};

/// ListSecrets' reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Listed<'a> {
    secret_list: Wrapper<Vec<Metadata<'a>>>,
    page_number: u64,
    page_size: u64,
    total_count: u64,
}

fn filter_key(text: &str) -> Option<FilterKey> {
    match text {
        "SecretName" => Some(FilterKey::SecretName),
        "Description" => Some(FilterKey::Description),
        "SecretType" => Some(FilterKey::SecretType),
        "TagKey" => Some(FilterKey::TagKey),
        "TagValue" => Some(FilterKey::TagValue),
        _ => None,
    }
}

/// `Filters`, parsed and bounded.
fn filters(text: &str) -> Result<Vec<SecretFilter>, RpcError> {
    let bad = || RpcError::invalid("Filters");
    let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|_| bad())?;
    if items.len() > 10 {
        return Err(bad());
    }
    items
        .iter()
        .map(|item| {
            let key = item
                .get("Key")
                .and_then(|k| k.as_str())
                .and_then(filter_key);
            let values = item
                .get("Values")
                .and_then(|v| v.as_array())
                .ok_or_else(bad)?;
            let values: Option<Vec<String>> = values
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect();
            match (key, values) {
                (Some(key), Some(values)) if values.len() <= 10 => Ok(SecretFilter { key, values }),
                _ => Err(bad()),
            }
        })
        .collect()
}

impl Wire for ListSecrets {
    const SPEC: ActionSpec = ActionSpec {
        about: "List secrets",
        params: &[
            optional("PageNumber", "page number, from 1"),
            optional("PageSize", "entries per page, 1-100 (default 10)"),
            optional("FetchTags", "true to add each secret's tags"),
            optional("Filters", "JSON list of {Key, Values}"),
        ],
    };
    type Reply<'a> = Listed<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let (page, size) = paging(params, 10)?;
        Ok(Self {
            filters: params
                .optional("Filters")
                .map(filters)
                .transpose()?
                .unwrap_or_default(),
            page,
            size,
            fetch_tags: params.bool_or("FetchTags", false)?,
        })
    }

    fn encode<'a>(out: &'a SecretPage, _: &KeyService) -> Result<Listed<'a>, RpcError> {
        Ok(Listed {
            secret_list: Wrapper("Secret", out.secrets.iter().map(Metadata::listed).collect()),
            page_number: out.page,
            page_size: out.size,
            total_count: out.total,
        })
    }

    fn fallback(_: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![Touch::secret_container(call.kms)]
    }
}
