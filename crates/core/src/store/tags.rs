//! [`TagStore`]: the tags of keys.

use async_trait::async_trait;

use super::StoreError;
use super::{KeyTag, TagCursor};
use crate::model::Tag;

/// A key's tags: tag keys unique per key, with a caller-given limit per key.
#[async_trait]
pub trait TagStore: Send + Sync + 'static {
    /// Lists a key's tags, sorted by tag key in byte order (not by locale).
    async fn list_tags(&self, key_id: &str) -> Result<Vec<Tag>, StoreError>;

    /// One page of the tags of every key, sorted by key id, then tag key (both in byte
    /// order): at most `limit` rows, the first one just after `after` (from the start when
    /// `None`), only tags matching `filter` when given (same tag key, and same value unless
    /// the filter's value is empty; see [`super::tag_matches`]). A keyset read over an index
    /// that leads with the tag key (and value) when filtered, so a page costs what it holds.
    async fn page_tags(
        &self,
        filter: Option<&Tag>,
        after: Option<&TagCursor>,
        limit: usize,
    ) -> Result<Vec<KeyTag>, StoreError>;

    /// Sets tags on a key, replacing the value of keys already present (a tag key given twice
    /// keeps its last value), unless the key would then hold more than `max_tags` tags. The
    /// count is taken after the write, so a tag key already present or given twice counts
    /// once, and replacing values at the limit is allowed.
    ///
    /// The count and the write are one atomic step: concurrent calls on one key, from any
    /// node sharing the store, cannot together take it past `max_tags`. `LimitExceeded`
    /// (nothing of the call written) if the key would hold too many tags, `ReferenceNotFound`
    /// if the key does not exist.
    async fn put_tags(&self, key_id: &str, tags: &[Tag], max_tags: usize)
    -> Result<(), StoreError>;

    /// Removes the tags with these tag keys (absent ones are ignored).
    async fn delete_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError>;
}
