//! DeletePolicy: remove a custom policy attached to nobody.

use openkms_core::KmsError;
use openkms_core::model::PolicyType;

use super::policy_touch;
use crate::{Call, OpName, Operation, Touch};

/// A DeletePolicy request.
pub struct DeletePolicy {
    /// The custom policy's name.
    pub policy_name: String,
}

impl Operation for DeletePolicy {
    const NAME: OpName = OpName::ram("DeletePolicy");
    type Output = ();

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![policy_touch(
            call.kms,
            PolicyType::Custom,
            &self.policy_name,
        )]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        call.kms.delete_policy(&self.policy_name).await
    }
}
