//! ListPolicies: System and Custom policies (or one type), a page at a time (System ones
//! first; Custom ones by a keyset read after the previous page's last name).

use openkms_core::KmsError;
use openkms_core::model::PolicyType;
use openkms_core::service::{PolicyCursor, PolicyView};

use super::{Listed, Page, account_arn};
use crate::{Call, OpName, Operation, Touch};

/// A ListPolicies request.
pub struct ListPolicies {
    /// One type, or both when `None`.
    pub policy_type: Option<PolicyType>,
    /// Which page: after this policy.
    pub page: Page<PolicyCursor>,
}

impl Operation for ListPolicies {
    const NAME: OpName = OpName::ram("ListPolicies");
    type Output = Listed<PolicyView, PolicyCursor>;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::resource(account_arn(call.kms))]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Listed<PolicyView, PolicyCursor>, KmsError> {
        let (after, max) = (self.page.after.as_ref(), self.page.max);
        let page = call
            .kms
            .list_policies_page(self.policy_type, after, max)
            .await?;
        Ok(Listed::of(page, PolicyCursor::after))
    }
}
