//! EnableKey: a Disabled key becomes Enabled.

use openkms_core::{KeyRecord, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An EnableKey request.
pub struct EnableKey {
    /// The key.
    pub key: KeyRef,
}

impl Operation for EnableKey {
    const NAME: OpName = OpName::kms("EnableKey");
    type Output = KeyRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyRecord, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.kms.enable_key(&key_id).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
