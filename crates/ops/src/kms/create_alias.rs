//! CreateAlias: give a key a name such as `alias/Apollo/WorkKey`.

use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A CreateAlias request.
pub struct CreateAlias {
    /// The alias to create (`alias/…`; the core checks its form).
    pub name: String,
    /// The key it will point at.
    pub key: KeyRef,
}

impl Operation for CreateAlias {
    const NAME: OpName = OpName::kms("CreateAlias");
    type Output = ();

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        let alias = Touch::resource(call.kms.alias_arn(&self.name));
        vec![Touch::key(&mut self.key), alias]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        call.kms.create_alias(&self.name, &self.key).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
