//! ListKeys on the wire: the keys, a page at a time, optionally filtered.
//!
//! Parameters: `PageNumber`, `PageSize`, `Filters` (JSON `[{"Key":"KeyState","Values":[…]}]`,
//! at most 10; AND across keys, OR within values). Reply: `Keys.Key[]` of `KeyId`/`KeyArn`,
//! with `PageNumber`, `PageSize`, `TotalCount`.

use openkms_core::service::KeyFilter;
use openkms_core::{KeyRecord, KeyService};
use openkms_ops::Paged;
use openkms_ops::kms::ListKeys;
use serde::Serialize;

use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional};
use crate::codec::values::{self, Listing};
use crate::rpc::{Params, RpcError};

/// Most filters in one request.
const MAX_FILTERS: usize = 10;

/// One entry of `Keys.Key[]`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyItem<'a> {
    key_id: &'a str,
    key_arn: String,
}

impl Wire for ListKeys {
    const SPEC: ActionSpec = ActionSpec {
        about: "List keys",
        params: &[
            crate::codec::spec::PAGE_PARAMS[0],
            crate::codec::spec::PAGE_PARAMS[1],
            optional(
                "Filters",
                "JSON such as [{\"Key\":\"KeyState\",\"Values\":[\"Enabled\"]}]",
            ),
        ],
    };
    type Reply<'a> = Listing<KeyItem<'a>>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let page = values::page(params)?;
        let filters = filters(params)?;
        Ok(Self { page, filters })
    }

    fn encode<'a>(
        keys: &'a Paged<KeyRecord>,
        kms: &KeyService,
    ) -> Result<Listing<KeyItem<'a>>, RpcError> {
        Ok(Listing::of(keys, ("Keys", "Key"), |k| KeyItem {
            key_id: &k.key_id,
            key_arn: kms.key_arn(&k.key_id),
        }))
    }
}

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
