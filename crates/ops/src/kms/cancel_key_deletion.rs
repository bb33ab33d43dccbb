//! CancelKeyDeletion: a key pending deletion returns to Enabled.

use openkms_core::{KeyRecord, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A CancelKeyDeletion request.
pub struct CancelKeyDeletion {
    /// The key.
    pub key: KeyRef,
}

impl Operation for CancelKeyDeletion {
    const NAME: OpName = OpName::kms("CancelKeyDeletion");
    type Output = KeyRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyRecord, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.kms.cancel_key_deletion(&key_id).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
