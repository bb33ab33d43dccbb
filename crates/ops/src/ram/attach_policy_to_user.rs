//! AttachPolicyToUser: grant a user a policy, from the next request on this node.

use openkms_core::KmsError;

use super::Attachment;
use crate::{Call, OpName, Operation, Touch};

/// An AttachPolicyToUser request.
pub struct AttachPolicyToUser(pub Attachment);

impl Operation for AttachPolicyToUser {
    const NAME: OpName = OpName::ram("AttachPolicyToUser");
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
            .attach_policy(user_name, *policy_type, policy_name)
            .await
    }
}
