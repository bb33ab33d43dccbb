//! UntagResource: remove tags from one key by tag key.

use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An UntagResource request.
pub struct UntagResource {
    /// The key to untag.
    pub key: KeyRef,
    /// The tag keys to remove; a key the tag set lacks is no error.
    pub tag_keys: Vec<String>,
}

impl Operation for UntagResource {
    const NAME: OpName = OpName::kms("UntagResource");
    type Output = ();

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.kms.untag_key(&key_id, &self.tag_keys).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
