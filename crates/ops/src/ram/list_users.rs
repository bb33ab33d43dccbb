//! ListUsers: every RAM user, sorted by name, a page at a time (a keyset read after the
//! previous page's last name).

use openkms_core::KmsError;
use openkms_core::model::UserRecord;

use super::{Listed, Page, account_arn};
use crate::{Call, OpName, Operation, Touch};

/// A ListUsers request.
pub struct ListUsers {
    /// Which page: after the user of this name.
    pub page: Page<String>,
}

impl Operation for ListUsers {
    const NAME: OpName = OpName::ram("ListUsers");
    type Output = Listed<UserRecord, String>;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::resource(account_arn(call.kms))]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Listed<UserRecord, String>, KmsError> {
        let page = call
            .kms
            .list_users_page(self.page.after.as_deref(), self.page.max)
            .await?;
        Ok(Listed::of(page, |u| u.user_name.clone()))
    }
}
