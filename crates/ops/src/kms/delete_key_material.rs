//! DeleteKeyMaterial: delete an EXTERNAL key's imported material (BYOK); the key returns to
//! PendingImport (unless pending deletion) and its import tokens are revoked.

use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A DeleteKeyMaterial request.
pub struct DeleteKeyMaterial {
    /// The EXTERNAL key.
    pub key: KeyRef,
}

impl Operation for DeleteKeyMaterial {
    const NAME: OpName = OpName::kms("DeleteKeyMaterial");
    type Output = String;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<String, KmsError> {
        call.kms.delete_key_material(&self.key).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(key_id: &String, event: &mut AuditEvent) {
        event.key(key_id);
    }
}
