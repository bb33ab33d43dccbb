//! DescribeRegions: the regions this server answers for (its one configured region).
//!
//! No parameters. Reply: `Regions.Region[]` of `RegionId`.

use openkms_core::KeyService;
use serde_json::json;

use super::spec::ActionSpec;
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What DescribeRegions accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "List the regions this server serves",
    params: &[],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let _ = params;
    Ok(common::fields(
        json!({ "Regions": { "Region": [ { "RegionId": service.region_id() } ] } }),
    ))
}
