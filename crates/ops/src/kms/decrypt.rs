//! Decrypt: open a ciphertext; the key is the one that made it.

use openkms_core::service::DecryptOutput;
use openkms_core::{EncryptionContext, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A Decrypt request.
pub struct Decrypt {
    /// The ciphertext blob (already decoded from the wire).
    pub blob: Vec<u8>,
    /// The context it was bound to.
    pub context: EncryptionContext,
}

impl Operation for Decrypt {
    const NAME: OpName = OpName::kms("Decrypt");
    type Output = DecryptOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::ciphertext(&self.blob, &self.context)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<DecryptOutput, KmsError> {
        call.kms.decrypt(&self.blob, &self.context).await
    }

    fn audit_output(output: &DecryptOutput, event: &mut AuditEvent) {
        event.version(&output.key_id, &output.version_id);
    }
}
