//! DescribeKeyVersion: one version of a key.

use openkms_core::{KeyRef, KmsError, VersionRecord};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A DescribeKeyVersion request.
pub struct DescribeKeyVersion {
    /// The key.
    pub key: KeyRef,
    /// The version's id.
    pub version_id: String,
}

impl Operation for DescribeKeyVersion {
    const NAME: OpName = OpName::kms("DescribeKeyVersion");
    type Output = VersionRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<VersionRecord, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.kms
            .describe_key_version(&key_id, &self.version_id)
            .await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
