//! SetSecretPolicy: replaces a secret's policy document, which authorization then reads beside
//! the caller's own policies (as a key policy is read).

use openkms_core::KmsError;

use super::note;
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A SetSecretPolicy request.
pub struct SetSecretPolicy {
    /// The secret.
    pub name: String,
    /// The document.
    pub policy: String,
}

impl Operation for SetSecretPolicy {
    const NAME: OpName = OpName::kms("SetSecretPolicy");
    type Output = ();

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        call.kms.set_secret_policy(&self.name, &self.policy).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, None);
    }
}
