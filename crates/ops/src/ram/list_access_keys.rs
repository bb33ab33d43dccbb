//! ListAccessKeys: a RAM user's AccessKeys, without secrets.

use openkms_core::KmsError;
use openkms_core::model::AccessKeyRecord;

use super::{own_user_touch, user_or_caller};
use crate::{Call, OpName, Operation, Touch};

/// A ListAccessKeys request.
pub struct ListAccessKeys {
    /// The user; `None` for the caller's own.
    pub user: Option<String>,
}

impl Operation for ListAccessKeys {
    const NAME: OpName = OpName::ram("ListAccessKeys");
    type Output = Vec<AccessKeyRecord>;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![own_user_touch(call.kms, self.user.as_deref(), call.caller)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Vec<AccessKeyRecord>, KmsError> {
        let user = user_or_caller(self.user.as_deref(), call.caller)?;
        call.kms.list_access_keys(user).await
    }
}
