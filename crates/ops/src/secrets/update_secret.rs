//! UpdateSecret: a secret's description (`ExtendedConfig` applies to managed types only and
//! is ignored, as §5.7 recommends).

use openkms_core::KmsError;

use super::note;
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// An UpdateSecret request.
pub struct UpdateSecret {
    /// The secret.
    pub name: String,
    /// The new description, when given.
    pub description: Option<String>,
}

impl Operation for UpdateSecret {
    const NAME: OpName = OpName::kms("UpdateSecret");
    /// The secret's name.
    type Output = String;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<String, KmsError> {
        let description = self.description.as_deref();
        call.kms.update_secret(&self.name, description).await?;
        Ok(self.name)
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, None);
    }
}
