//! UpdateSecretVersionStage: moves or removes a stage label by §5.2 rules 5 and 6.

use openkms_core::KmsError;

use super::note;
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// An UpdateSecretVersionStage request.
pub struct UpdateSecretVersionStage {
    /// The secret.
    pub name: String,
    /// The label.
    pub stage: String,
    /// The version it must leave, when given.
    pub remove_from: Option<String>,
    /// The version it moves to, when given.
    pub move_to: Option<String>,
}

impl Operation for UpdateSecretVersionStage {
    const NAME: OpName = OpName::kms("UpdateSecretVersionStage");
    /// The secret's name.
    type Output = String;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<String, KmsError> {
        let (from, to) = (self.remove_from.as_deref(), self.move_to.as_deref());
        call.kms
            .update_secret_version_stage(&self.name, &self.stage, from, to)
            .await?;
        Ok(self.name)
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, self.move_to.as_deref());
    }
}
