//! ListKeys: the keys, a page at a time, optionally filtered.
//!
//! Parameters: `PageNumber`, `PageSize`, `Filters` (JSON `[{"Key":"KeyState","Values":[…]}]`,
//! at most 10; AND across keys, OR within values). Reply: `Keys.Key[]` of `KeyId`/`KeyArn`,
//! with `PageNumber`, `PageSize`, `TotalCount`.

use openkms_core::KeyService;
use openkms_core::service::KeyFilter;
use serde_json::json;

use super::spec::{ActionSpec, optional};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What ListKeys accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "List keys",
    params: &[
        common::PAGE_PARAMS[0],
        common::PAGE_PARAMS[1],
        optional(
            "Filters",
            "JSON such as [{\"Key\":\"KeyState\",\"Values\":[\"Enabled\"]}]",
        ),
    ],
};

/// Most filters in one request.
const MAX_FILTERS: usize = 10;

fn filters(params: &Params) -> Result<Vec<KeyFilter>, RpcError> {
    let Some(text) = params.optional("Filters") else {
        return Ok(Vec::new());
    };
    let bad = || RpcError::invalid("Filters");
    let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|_| bad())?;
    if items.len() > MAX_FILTERS {
        return Err(bad());
    }
    items
        .iter()
        .map(|f| {
            let key = f.get("Key").and_then(|k| k.as_str()).ok_or_else(bad)?;
            let values = f.get("Values").and_then(|v| v.as_array()).ok_or_else(bad)?;
            let values = values
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad));
            Ok(KeyFilter {
                key: key.to_owned(),
                values: values.collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let paging = common::paging(params)?;
    let keys = service.list_keys(&filters(params)?).await?;
    Ok(common::page(
        &keys,
        paging,
        ("Keys", "Key"),
        |k| json!({ "KeyId": k.key_id, "KeyArn": service.key_arn(&k.key_id) }),
    ))
}
