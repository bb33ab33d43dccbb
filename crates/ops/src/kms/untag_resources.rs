//! UntagResources: remove tags from several keys at once, by tag key or all of them; every
//! key is checked to exist before any is untagged.

use openkms_core::{KeyRef, KmsError};

use crate::kms::tag_lists;
use crate::{Call, OpName, Operation, Touch};

/// An UntagResources request.
pub struct UntagResources {
    /// The keys to untag (at least one).
    pub keys: Vec<KeyRef>,
    /// Which tags to remove from each.
    pub tag_keys: TagKeys,
    /// The secrets to untag instead of keys (`ResourceType=secret`).
    pub secrets: Vec<String>,
}

/// The tags UntagResources removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagKeys {
    /// Every tag the key has.
    All,
    /// The tags with these keys (a key the tag set lacks is no error).
    Named(Vec<String>),
}

impl Operation for UntagResources {
    const NAME: OpName = OpName::kms("UntagResources");
    type Output = ();

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        if !self.secrets.is_empty() {
            return crate::secrets::tags::touches(&self.secrets);
        }
        tag_lists::touches(&mut self.keys, call.kms)
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        if !self.secrets.is_empty() {
            let keys = match &self.tag_keys {
                TagKeys::All => None,
                TagKeys::Named(keys) => Some(keys.as_slice()),
            };
            return crate::secrets::tags::untag(call, &self.secrets, keys).await;
        }
        let kms = call.kms;
        for key_id in tag_lists::existing(kms, &self.keys).await? {
            let tag_keys = match &self.tag_keys {
                TagKeys::All => kms
                    .list_key_tags(&key_id)
                    .await?
                    .into_iter()
                    .map(|t| t.key)
                    .collect(),
                TagKeys::Named(keys) => keys.clone(),
            };
            kms.untag_key(&key_id, &tag_keys).await?;
        }
        Ok(())
    }
}
