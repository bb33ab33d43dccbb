//! DescribeKey: a key's full record, in any state, with the state it is in now (an EXTERNAL
//! key whose material expired is PendingImport) and its material expiry.

use openkms_core::{KeyRecord, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A DescribeKey request.
pub struct DescribeKey {
    /// The key.
    pub key: KeyRef,
}

impl Operation for DescribeKey {
    const NAME: OpName = OpName::kms("DescribeKey");
    /// The record and when imported material expires (`None`: never, or not EXTERNAL).
    type Output = (KeyRecord, Option<i64>);

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(KeyRecord, Option<i64>), KmsError> {
        call.kms.describe_key_expiry(&self.key).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output((output, _): &(KeyRecord, Option<i64>), event: &mut AuditEvent) {
        event.key(&output.key_id);
    }
}
