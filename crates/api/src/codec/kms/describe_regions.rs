//! DescribeRegions on the wire: the regions this server answers for (its one configured
//! region).
//!
//! No parameters. Reply: `Regions.Region[]` of `RegionId`. Open to every authenticated
//! caller, so it is authorized against nothing, however it is sent.

use openkms_core::KeyService;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::DescribeRegions;
use serde::Serialize;

use crate::codec::Wire;
use crate::codec::spec::ActionSpec;
use crate::codec::values::Wrapper;
use crate::rpc::{Params, RpcError};

/// DescribeRegions' reply: `{"Regions":{"Region":[{"RegionId":…}]}}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Regions<'a> {
    regions: Wrapper<Vec<Region<'a>>>,
}

/// One entry of `Regions.Region[]`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Region<'a> {
    region_id: &'a str,
}

impl Wire for DescribeRegions {
    const SPEC: ActionSpec = ActionSpec {
        about: "List the regions this server serves",
        params: &[],
    };
    type Reply<'a> = Regions<'a>;

    fn decode(_: &Params, _: &KeyService) -> Result<Self, RpcError> {
        Ok(Self)
    }

    fn encode<'a>(region: &'a String, _: &KeyService) -> Result<Regions<'a>, RpcError> {
        Ok(Regions {
            regions: Wrapper("Region", vec![Region { region_id: region }]),
        })
    }

    fn fallback(_: &Params, _: &Call<'_>) -> Vec<Touch<'static>> {
        Vec::new()
    }
}
