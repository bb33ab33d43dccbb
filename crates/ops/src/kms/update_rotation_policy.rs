//! UpdateRotationPolicy: turn a key's automatic rotation on (with an interval) or off.

use openkms_core::{KeyRecord, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An UpdateRotationPolicy request.
pub struct UpdateRotationPolicy {
    /// The key.
    pub key: KeyRef,
    /// The rotation interval in seconds; `None` turns automatic rotation off.
    pub interval: Option<i64>,
}

impl Operation for UpdateRotationPolicy {
    const NAME: OpName = OpName::kms("UpdateRotationPolicy");
    type Output = KeyRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyRecord, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.kms
            .update_rotation_policy(&key_id, self.interval)
            .await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
