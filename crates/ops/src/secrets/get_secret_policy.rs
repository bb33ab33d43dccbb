//! GetSecretPolicy: a secret's policy document (the default one when none was set).

use openkms_core::KmsError;

use super::note;
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A GetSecretPolicy request.
pub struct GetSecretPolicy {
    /// The secret.
    pub name: String,
}

impl Operation for GetSecretPolicy {
    const NAME: OpName = OpName::kms("GetSecretPolicy");
    /// The document.
    type Output = String;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<String, KmsError> {
        call.kms.get_secret_policy(&self.name).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, None);
    }
}
