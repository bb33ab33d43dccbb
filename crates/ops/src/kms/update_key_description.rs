//! UpdateKeyDescription: replace a key's description.

use openkms_core::{KeyRecord, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An UpdateKeyDescription request.
pub struct UpdateKeyDescription {
    /// The key.
    pub key: KeyRef,
    /// The new description (may be empty).
    pub description: String,
}

impl Operation for UpdateKeyDescription {
    const NAME: OpName = OpName::kms("UpdateKeyDescription");
    type Output = KeyRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyRecord, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.guard_internal_key(&key_id).await?;
        call.kms
            .update_key_description(&key_id, &self.description)
            .await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
