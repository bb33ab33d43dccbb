//! DescribeRegions: the regions this server answers for (its one configured region). Open
//! to every authenticated caller: it touches nothing.

use openkms_core::KmsError;

use crate::{Call, OpName, Operation, Touch};

/// A DescribeRegions request (it takes nothing).
pub struct DescribeRegions;

impl Operation for DescribeRegions {
    const NAME: OpName = OpName::kms("DescribeRegions");
    /// The region id.
    type Output = String;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        Vec::new()
    }

    async fn execute(self, call: &Call<'_>) -> Result<String, KmsError> {
        Ok(call.kms.region_id().to_owned())
    }
}
