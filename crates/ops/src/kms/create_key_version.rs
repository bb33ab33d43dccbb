//! CreateKeyVersion: rotate a key by hand; the new version becomes the primary.

use openkms_core::{KeyRef, KmsError, VersionRecord};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A CreateKeyVersion request.
pub struct CreateKeyVersion {
    /// The key.
    pub key: KeyRef,
}

impl Operation for CreateKeyVersion {
    const NAME: OpName = OpName::kms("CreateKeyVersion");
    type Output = VersionRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<VersionRecord, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.kms.create_key_version(&key_id).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
