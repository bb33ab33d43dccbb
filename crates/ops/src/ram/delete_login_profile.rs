//! DeleteLoginProfile: take a RAM user's console password away.

use openkms_core::KmsError;

use super::login_profile::touches;
use crate::{Call, OpName, Operation, Touch};

/// A DeleteLoginProfile request.
pub struct DeleteLoginProfile {
    /// The user.
    pub user_name: String,
}

impl Operation for DeleteLoginProfile {
    const NAME: OpName = OpName::ram("DeleteLoginProfile");
    type Output = ();

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        touches(call.kms, &self.user_name)
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        call.kms.delete_login_profile(&self.user_name).await
    }
}
