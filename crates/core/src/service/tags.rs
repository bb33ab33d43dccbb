//! Tags on keys: TagResource(s), UntagResource(s), ListResourceTags.
//!
//! Tag rules (§5): each request's tags are checked here; the count is checked on the merged
//! result by the store, in the same step as the write (see [`Store::put_tags`]), so a key
//! never holds more than [`MAX_TAGS`] tags, even when requests race on several nodes.
//!
//! [`Store::put_tags`]: crate::store::TagStore::put_tags

use super::KeyService;
use super::keys::{MAX_TAGS, validate_tags};
use crate::error::Field;
use crate::error::{InvalidReason, KmsError};
use crate::model::Tag;
use crate::store::StoreError;

impl KeyService {
    /// Adds or replaces tags on a key: `KeyNotFound` if there is no such key, and the same
    /// `Tags` error as for a request of too many tags if the key would hold more than
    /// [`MAX_TAGS`].
    pub async fn tag_key(&self, key_id: &str, tags: &[Tag]) -> Result<(), KmsError> {
        validate_tags(tags)?;
        match self.store.put_tags(key_id, tags, MAX_TAGS).await {
            Err(StoreError::ReferenceNotFound) => Err(KmsError::KeyNotFound),
            Err(StoreError::LimitExceeded) => Err(too_many_tags()),
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

/// The error for a key that would hold more than [`MAX_TAGS`] tags (what `validate_tags`
/// answers for a request of too many).
fn too_many_tags() -> KmsError {
    KmsError::invalid(Field::Tags, InvalidReason::TooLong { max: MAX_TAGS })
}
