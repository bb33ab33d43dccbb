//! ScheduleKeyDeletion: destroy a key after a waiting period (7 to 366 days).

use openkms_core::{KeyRecord, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A ScheduleKeyDeletion request.
pub struct ScheduleKeyDeletion {
    /// The key.
    pub key: KeyRef,
    /// Days until destruction (the core checks the bounds).
    pub days: i64,
}

impl Operation for ScheduleKeyDeletion {
    const NAME: OpName = OpName::kms("ScheduleKeyDeletion");
    type Output = KeyRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyRecord, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.guard_internal_key(&key_id).await?;
        call.kms.schedule_key_deletion(&key_id, self.days).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
