//! UpdateLoginProfile: change a RAM user's console password or its flags.

use openkms_core::KmsError;
use openkms_core::service::{LoginProfileInput, LoginProfileView};

use super::login_profile::touches;
use crate::{Call, OpName, Operation, Touch};

/// An UpdateLoginProfile request (what it leaves `None` is kept). No `Debug`: it may hold
/// the password.
pub struct UpdateLoginProfile {
    /// The user and the changes.
    pub profile: LoginProfileInput,
}

impl Operation for UpdateLoginProfile {
    const NAME: OpName = OpName::ram("UpdateLoginProfile");
    type Output = LoginProfileView;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        touches(call.kms, &self.profile.user_name)
    }

    async fn execute(self, call: &Call<'_>) -> Result<LoginProfileView, KmsError> {
        call.kms.update_login_profile(self.profile).await
    }
}
