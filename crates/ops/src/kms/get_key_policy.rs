//! GetKeyPolicy: the policy document of a key (the default key policy when it was created
//! without one).

use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A GetKeyPolicy request.
pub struct GetKeyPolicy {
    /// The key.
    pub key: KeyRef,
    /// The policy's name (only `default` exists).
    pub name: String,
}

impl Operation for GetKeyPolicy {
    const NAME: OpName = OpName::kms("GetKeyPolicy");
    /// The policy document (JSON).
    type Output = String;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<String, KmsError> {
        call.kms.get_key_policy(&self.key, &self.name).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
