//! SetKeyPolicy: replace the policy document of a key.

use openkms_core::{KeyRecord, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A SetKeyPolicy request.
pub struct SetKeyPolicy {
    /// The key.
    pub key: KeyRef,
    /// The policy's name (only `default` exists).
    pub name: String,
    /// The new policy document (JSON; the core checks it).
    pub policy: String,
}

impl Operation for SetKeyPolicy {
    const NAME: OpName = OpName::kms("SetKeyPolicy");
    type Output = KeyRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyRecord, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.guard_internal_key(&key_id).await?;
        call.kms
            .set_key_policy(&KeyRef::Id(key_id), &self.name, &self.policy)
            .await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
