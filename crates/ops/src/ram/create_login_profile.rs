//! CreateLoginProfile: give a RAM user a console password.

use openkms_core::KmsError;
use openkms_core::service::{LoginProfileInput, LoginProfileView};

use super::login_profile::touches;
use crate::{Call, OpName, Operation, Touch};

/// A CreateLoginProfile request. No `Debug`: it holds the password.
pub struct CreateLoginProfile {
    /// The user, the password and the flags.
    pub profile: LoginProfileInput,
}

impl Operation for CreateLoginProfile {
    const NAME: OpName = OpName::ram("CreateLoginProfile");
    type Output = LoginProfileView;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        touches(call.kms, &self.profile.user_name)
    }

    async fn execute(self, call: &Call<'_>) -> Result<LoginProfileView, KmsError> {
        call.kms.create_login_profile(self.profile).await
    }
}
