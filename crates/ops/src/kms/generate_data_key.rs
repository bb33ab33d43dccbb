//! GenerateDataKey and GenerateDataKeyWithoutPlaintext: a fresh data key sealed under a key,
//! given back in the clear too or not.

use openkms_core::service::DataKeyOutput;
use openkms_core::{EncryptionContext, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A GenerateDataKey request.
pub struct GenerateDataKey {
    /// The key that seals the data key.
    pub key: KeyRef,
    /// The data key's length in bytes (1-1024).
    pub len: usize,
    /// The context the sealed data key is bound to.
    pub context: EncryptionContext,
}

/// A GenerateDataKeyWithoutPlaintext request: the same, but only the sealed key goes back.
pub struct GenerateDataKeyWithoutPlaintext(pub GenerateDataKey);

impl Operation for GenerateDataKey {
    const NAME: OpName = OpName::kms("GenerateDataKey");
    type Output = DataKeyOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key_with(&mut self.key, &self.context)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<DataKeyOutput, KmsError> {
        let kms = call.kms;
        kms.generate_data_key(&self.key, self.len, &self.context)
            .await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(output: &DataKeyOutput, event: &mut AuditEvent) {
        event.version(&output.key_id, &output.version_id);
    }
}

impl Operation for GenerateDataKeyWithoutPlaintext {
    const NAME: OpName = OpName::kms("GenerateDataKeyWithoutPlaintext");
    type Output = DataKeyOutput;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        self.0.touches(call)
    }

    async fn execute(self, call: &Call<'_>) -> Result<DataKeyOutput, KmsError> {
        self.0.execute(call).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        self.0.audit_request(event);
    }

    fn audit_output(output: &DataKeyOutput, event: &mut AuditEvent) {
        GenerateDataKey::audit_output(output, event);
    }
}
