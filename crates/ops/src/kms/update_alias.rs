//! UpdateAlias: point an existing alias at another key.

use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An UpdateAlias request.
pub struct UpdateAlias {
    /// The alias to move.
    pub name: String,
    /// The key it will point at.
    pub key: KeyRef,
}

impl Operation for UpdateAlias {
    const NAME: OpName = OpName::kms("UpdateAlias");
    type Output = ();

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        let alias = Touch::resource(call.kms.alias_arn(&self.name));
        vec![Touch::key(&mut self.key), alias]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        call.kms.update_alias(&self.name, &self.key).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
