//! ChangePassword: a RAM user changes their own console password.
//!
//! It acts on the caller's own login profile only and proves the current password, so, as in
//! RAM (where the account's password policy, not a RAM policy, allows it), it touches nothing a
//! policy must allow. The root identity has no RAM user, so no profile.

use openkms_core::{KmsError, SecretBytes};

use crate::{Call, OpName, Operation, Touch};

/// A ChangePassword request. No `Debug`: it holds passwords.
pub struct ChangePassword {
    /// The current password.
    pub old: SecretBytes,
    /// The new password.
    pub new: SecretBytes,
}

impl Operation for ChangePassword {
    const NAME: OpName = OpName::ram("ChangePassword");
    type Output = ();

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        Vec::new()
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        let user = &call.caller.user;
        call.kms
            .change_own_password(user, &self.old, &self.new)
            .await
    }
}
