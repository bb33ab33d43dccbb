//! CreatePolicy: a custom policy from a policy document (validated by the policy engine).

use openkms_core::KmsError;
use openkms_core::model::{PolicyRecord, PolicyType};

use super::policy_touch;
use crate::{Call, OpName, Operation, Touch};

/// A CreatePolicy request.
pub struct CreatePolicy {
    /// The policy's name.
    pub policy_name: String,
    /// The policy document (JSON).
    pub document: String,
    /// Its description; may be empty.
    pub description: String,
}

impl Operation for CreatePolicy {
    const NAME: OpName = OpName::ram("CreatePolicy");
    type Output = PolicyRecord;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![policy_touch(
            call.kms,
            PolicyType::Custom,
            &self.policy_name,
        )]
    }

    async fn execute(self, call: &Call<'_>) -> Result<PolicyRecord, KmsError> {
        let (name, document) = (&self.policy_name, &self.document);
        call.kms
            .create_policy(name, document, &self.description)
            .await
    }
}
