//! GetLoginProfile: a RAM user's login profile (its flags; never the password).

use openkms_core::KmsError;
use openkms_core::service::LoginProfileView;

use super::login_profile::touches;
use crate::{Call, OpName, Operation, Touch};

/// A GetLoginProfile request.
pub struct GetLoginProfile {
    /// The user.
    pub user_name: String,
}

impl Operation for GetLoginProfile {
    const NAME: OpName = OpName::ram("GetLoginProfile");
    type Output = LoginProfileView;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        touches(call.kms, &self.user_name)
    }

    async fn execute(self, call: &Call<'_>) -> Result<LoginProfileView, KmsError> {
        call.kms.get_login_profile(&self.user_name).await
    }
}
