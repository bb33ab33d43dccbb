//! CreateKey: make a customer master key with its first version.

use openkms_core::service::CreateKeyInput;
use openkms_core::{KeyRecord, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A CreateKey request: the new key's attributes, tags and policy.
pub struct CreateKey(pub CreateKeyInput);

impl Operation for CreateKey {
    const NAME: OpName = OpName::kms("CreateKey");
    type Output = KeyRecord;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key_container(call.kms)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyRecord, KmsError> {
        call.kms.create_key(self.0).await
    }

    fn audit_output(output: &KeyRecord, event: &mut AuditEvent) {
        event.key(&output.key_id);
    }
}
