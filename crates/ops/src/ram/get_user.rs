//! GetUser: one RAM user.

use openkms_core::KmsError;
use openkms_core::model::UserRecord;

use super::user_touch;
use crate::{Call, OpName, Operation, Touch};

/// A GetUser request.
pub struct GetUser {
    /// The user's name.
    pub user_name: String,
}

impl Operation for GetUser {
    const NAME: OpName = OpName::ram("GetUser");
    type Output = UserRecord;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![user_touch(call.kms, &self.user_name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<UserRecord, KmsError> {
        call.kms.get_user(&self.user_name).await
    }
}
