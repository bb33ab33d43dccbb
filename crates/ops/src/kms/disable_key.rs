//! DisableKey: the key refuses cryptographic operations until enabled again.

use openkms_core::{KeyRecord, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A DisableKey request.
pub struct DisableKey {
    /// The key.
    pub key: KeyRef,
}

impl Operation for DisableKey {
    const NAME: OpName = OpName::kms("DisableKey");
    type Output = KeyRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyRecord, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.guard_internal_key(&key_id).await?;
        call.kms.disable_key(&key_id).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
