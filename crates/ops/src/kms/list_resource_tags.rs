//! ListResourceTags: one key's tags.

use openkms_core::{KeyRef, KmsError, Tag};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A ListResourceTags request.
pub struct ListResourceTags {
    /// The key whose tags to list.
    pub key: KeyRef,
}

/// Tags of one key: the output of ListResourceTags, and a row group of ListTagResources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTags {
    /// The key (its real id).
    pub key_id: String,
    /// Its tags, in the store's order.
    pub tags: Vec<Tag>,
}

impl Operation for ListResourceTags {
    const NAME: OpName = OpName::kms("ListResourceTags");
    type Output = KeyTags;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyTags, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        let tags = call.kms.list_key_tags(&key_id).await?;
        Ok(KeyTags { key_id, tags })
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
