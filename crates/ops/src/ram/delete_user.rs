//! DeleteUser: remove a RAM user that owns no AccessKey and holds no policy.

use openkms_core::KmsError;

use super::user_touch;
use crate::{Call, OpName, Operation, Touch};

/// A DeleteUser request.
pub struct DeleteUser {
    /// The user's name.
    pub user_name: String,
}

impl Operation for DeleteUser {
    const NAME: OpName = OpName::ram("DeleteUser");
    type Output = ();

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![user_touch(call.kms, &self.user_name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        call.kms.delete_user(&self.user_name).await
    }
}
