//! ReEncrypt: open a ciphertext and seal its plaintext under another key, without the
//! plaintext leaving the service.

use openkms_core::service::EncryptOutput;
use openkms_core::{EncryptionContext, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A ReEncrypt request.
pub struct ReEncrypt {
    /// The ciphertext to open.
    pub blob: Vec<u8>,
    /// The context it was bound to.
    pub source_context: EncryptionContext,
    /// The key to seal under.
    pub destination: KeyRef,
    /// The context to bind the new ciphertext to.
    pub destination_context: EncryptionContext,
}

impl Operation for ReEncrypt {
    const NAME: OpName = OpName::kms("ReEncrypt");
    type Output = EncryptOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![
            Touch::ciphertext(&self.blob, &self.source_context),
            Touch::key_with(&mut self.destination, &self.destination_context),
        ]
    }

    async fn execute(self, call: &Call<'_>) -> Result<EncryptOutput, KmsError> {
        let (source, destination) = (&self.source_context, &self.destination_context);
        let kms = call.kms;
        kms.re_encrypt(&self.blob, source, &self.destination, destination)
            .await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.destination));
    }

    fn audit_output(output: &EncryptOutput, event: &mut AuditEvent) {
        event.version(&output.key_id, &output.version_id);
    }
}
