//! RestoreSecret: cancels a secret's scheduled deletion.

use openkms_core::KmsError;

use super::note;
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A RestoreSecret request.
pub struct RestoreSecret {
    /// The secret.
    pub name: String,
}

impl Operation for RestoreSecret {
    const NAME: OpName = OpName::kms("RestoreSecret");
    /// The secret's name.
    type Output = String;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<String, KmsError> {
        call.kms.restore_secret(&self.name).await?;
        Ok(self.name)
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, None);
    }
}
