//! ListPoliciesForUser: the policies attached to a user (no paging, as in RAM).

use openkms_core::KmsError;
use openkms_core::service::AttachedPolicy;

use super::user_touch;
use crate::{Call, OpName, Operation, Touch};

/// A ListPoliciesForUser request.
pub struct ListPoliciesForUser {
    /// The user's name.
    pub user_name: String,
}

impl Operation for ListPoliciesForUser {
    const NAME: OpName = OpName::ram("ListPoliciesForUser");
    type Output = Vec<AttachedPolicy>;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![user_touch(call.kms, &self.user_name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Vec<AttachedPolicy>, KmsError> {
        call.kms.list_policies_for_user(&self.user_name).await
    }
}
