//! TagResource: add or replace tags on one key.

use openkms_core::{KeyRef, KmsError, Tag};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A TagResource request.
pub struct TagResource {
    /// The key to tag.
    pub key: KeyRef,
    /// The tags to add, or whose values to replace (the core checks them).
    pub tags: Vec<Tag>,
}

impl Operation for TagResource {
    const NAME: OpName = OpName::kms("TagResource");
    type Output = ();

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.kms.tag_key(&key_id, &self.tags).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
