//! ListUsers: every RAM user, sorted by name, a page at a time.

use openkms_core::KmsError;
use openkms_core::model::UserRecord;

use super::{Listed, Page, account_arn};
use crate::{Call, OpName, Operation, Touch};

/// A ListUsers request.
pub struct ListUsers {
    /// Which page.
    pub page: Page,
}

impl Operation for ListUsers {
    const NAME: OpName = OpName::ram("ListUsers");
    type Output = Listed<UserRecord>;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::resource(account_arn(call.kms))]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Listed<UserRecord>, KmsError> {
        Ok(self.page.of(call.kms.list_users().await?))
    }
}
