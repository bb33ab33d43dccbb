//! TagResources: tag several keys (or secrets) at once; every one is checked to exist before
//! any is tagged.

use openkms_core::{KeyRef, KmsError, Tag};

use crate::kms::tag_lists;
use crate::{Call, OpName, Operation, Touch};

/// A TagResources request.
pub struct TagResources {
    /// The keys to tag (at least one).
    pub keys: Vec<KeyRef>,
    /// The tags to add or replace on each (at least one; the core checks them).
    pub tags: Vec<Tag>,
    /// The secrets to tag instead of keys (`ResourceType=secret`).
    pub secrets: Vec<String>,
}

impl Operation for TagResources {
    const NAME: OpName = OpName::kms("TagResources");
    type Output = ();

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        if !self.secrets.is_empty() {
            return crate::secrets::tags::touches(&self.secrets);
        }
        tag_lists::touches(&mut self.keys, call.kms)
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        if !self.secrets.is_empty() {
            return crate::secrets::tags::tag(call, &self.secrets, &self.tags).await;
        }
        for key_id in tag_lists::existing(call.kms, &self.keys).await? {
            call.kms.tag_key(&key_id, &self.tags).await?;
        }
        Ok(())
    }
}
