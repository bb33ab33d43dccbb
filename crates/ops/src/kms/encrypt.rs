//! Encrypt: seal up to 6 KB under a key named by id, alias or ARN.

use openkms_core::service::EncryptOutput;
use openkms_core::{EncryptionContext, KeyRef, KmsError, SecretBytes};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An Encrypt request.
pub struct Encrypt {
    /// The key.
    pub key: KeyRef,
    /// The bytes to seal; Decrypt gives them back unchanged.
    pub plaintext: SecretBytes,
    /// The context the ciphertext is bound to.
    pub context: EncryptionContext,
}

impl Operation for Encrypt {
    const NAME: OpName = OpName::kms("Encrypt");
    type Output = EncryptOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key_with(&mut self.key, &self.context)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<EncryptOutput, KmsError> {
        let plaintext = self.plaintext.expose_secret();
        call.kms.encrypt(&self.key, plaintext, &self.context).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(output: &EncryptOutput, event: &mut AuditEvent) {
        event.version(&output.key_id, &output.version_id);
    }
}
