//! DescribeKey: a key's full record, in any state.

use openkms_core::{KeyRecord, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A DescribeKey request.
pub struct DescribeKey {
    /// The key.
    pub key: KeyRef,
}

impl Operation for DescribeKey {
    const NAME: OpName = OpName::kms("DescribeKey");
    type Output = KeyRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyRecord, KmsError> {
        call.kms.describe_key(&self.key).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(output: &KeyRecord, event: &mut AuditEvent) {
        event.key(&output.key_id);
    }
}
