//! GetPolicy: one policy with its document.

use openkms_core::KmsError;
use openkms_core::model::PolicyType;
use openkms_core::service::PolicyView;

use super::policy_touch;
use crate::{Call, OpName, Operation, Touch};

/// A GetPolicy request.
pub struct GetPolicy {
    /// System or Custom.
    pub policy_type: PolicyType,
    /// The policy's name.
    pub policy_name: String,
}

impl Operation for GetPolicy {
    const NAME: OpName = OpName::ram("GetPolicy");
    type Output = PolicyView;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![policy_touch(call.kms, self.policy_type, &self.policy_name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<PolicyView, KmsError> {
        call.kms
            .get_policy(self.policy_type, &self.policy_name)
            .await
    }
}
