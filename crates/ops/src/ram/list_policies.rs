//! ListPolicies: System and Custom policies (or one type), a page at a time.

use openkms_core::KmsError;
use openkms_core::model::PolicyType;
use openkms_core::service::PolicyView;

use super::{Listed, Page, account_arn};
use crate::{Call, OpName, Operation, Touch};

/// A ListPolicies request.
pub struct ListPolicies {
    /// One type, or both when `None`.
    pub policy_type: Option<PolicyType>,
    /// Which page.
    pub page: Page,
}

impl Operation for ListPolicies {
    const NAME: OpName = OpName::ram("ListPolicies");
    type Output = Listed<PolicyView>;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::resource(account_arn(call.kms))]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Listed<PolicyView>, KmsError> {
        let all = call.kms.list_policies(self.policy_type).await?;
        Ok(self.page.of(all))
    }
}
