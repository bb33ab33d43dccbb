//! Tags on keys: TagResource(s), UntagResource(s), ListResourceTags.
//!
//! Tag rules (§5) are checked on the merged result, so a key never holds more than 20 tags.

use super::KeyService;
use super::keys::validate_tags;
use crate::error::{InvalidReason, KmsError};
use crate::model::Tag;
use crate::store::StoreError;

impl KeyService {
    /// Adds or replaces tags on a key.
    pub async fn tag_key(&self, key_id: &str, tags: &[Tag]) -> Result<(), KmsError> {
        validate_tags(tags)?;
        let existing = self.list_key_tags(key_id).await?;
        let added = tags
            .iter()
            .filter(|t| !existing.iter().any(|e| e.key == t.key))
            .count();
        if existing.len() + added > super::MAX_TAGS {
            let reason = InvalidReason::TooLong {
                max: super::MAX_TAGS,
            };
            return Err(KmsError::invalid("Tags", reason));
        }
        match self.store.put_tags(key_id, tags).await {
            Err(StoreError::ReferenceNotFound) => Err(KmsError::KeyNotFound),
            other => Ok(other?),
        }
    }

    /// Removes tags by tag key from a key.
    pub async fn untag_key(&self, key_id: &str, tag_keys: &[String]) -> Result<(), KmsError> {
        self.store
            .get_key(key_id)
            .await?
            .ok_or(KmsError::KeyNotFound)?;
        Ok(self.store.delete_tags(key_id, tag_keys).await?)
    }

    /// A key's tags, sorted by tag key.
    pub async fn list_key_tags(&self, key_id: &str) -> Result<Vec<Tag>, KmsError> {
        self.store
            .get_key(key_id)
            .await?
            .ok_or(KmsError::KeyNotFound)?;
        Ok(self.store.list_tags(key_id).await?)
    }
}
