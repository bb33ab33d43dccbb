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

    /// The key it will point at, and the alias as a key reference: its ARN and the key it
    /// points at now, which the caller must be allowed on too — moving an alias off a key
    /// redirects whoever encrypts with the alias, so it is a change to that key's use.
    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        let alias = Touch::named(KeyRef::Alias(self.name.clone()));
        vec![Touch::key(&mut self.key), alias]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        call.kms.update_alias(&self.name, &self.key).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
