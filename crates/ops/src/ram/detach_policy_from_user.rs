//! DetachPolicyFromUser: take a policy away from a user.

use openkms_core::KmsError;

use super::Attachment;
use crate::{Call, OpName, Operation, Touch};

/// A DetachPolicyFromUser request.
pub struct DetachPolicyFromUser(pub Attachment);

impl Operation for DetachPolicyFromUser {
    const NAME: OpName = OpName::ram("DetachPolicyFromUser");
    type Output = ();

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        self.0.touches(call.kms)
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        let Attachment {
            user_name,
            policy_type,
            policy_name,
        } = &self.0;
        call.kms
            .detach_policy(user_name, *policy_type, policy_name)
            .await
    }
}
