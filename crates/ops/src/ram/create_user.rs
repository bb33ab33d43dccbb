//! CreateUser: a new RAM user.

use openkms_core::KmsError;
use openkms_core::model::UserRecord;
use openkms_core::service::NewUser;

use super::user_touch;
use crate::{Call, OpName, Operation, Touch};

/// A CreateUser request.
pub struct CreateUser {
    /// The new user's name and profile.
    pub user: NewUser,
}

impl Operation for CreateUser {
    const NAME: OpName = OpName::ram("CreateUser");
    type Output = UserRecord;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![user_touch(call.kms, &self.user.user_name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<UserRecord, KmsError> {
        call.kms.create_user(self.user).await
    }
}
