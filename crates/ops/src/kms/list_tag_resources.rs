//! ListTagResources: tags of several keys (or of every key, a page at a time), optionally
//! only some tags.
//!
//! Naming keys lists their tags whole (a request names a bounded number of keys). Naming
//! none lists the tags of every key the caller may see, sorted by key id then tag key, at
//! most [`TAG_PAGE_ROWS`] rows a page, resumed after the cursor the previous page returned:
//! the core reads the page by keyset (see `KeyService::list_tags_page`), so a page costs the
//! same whatever the number of keys and tags.

use openkms_core::store::tag_matches;
use openkms_core::{KeyRef, KmsError, Tag, TagCursor};

use crate::kms::{KeyTags, tag_lists};
use crate::{Call, OpName, Operation, Touch};

/// The most tag rows one page of ListTagResources naming no key holds.
pub const TAG_PAGE_ROWS: usize = 100;

/// A ListTagResources request.
pub struct ListTagResources {
    /// The keys whose tags to list; none means every key, a page at a time.
    pub keys: Vec<KeyRef>,
    /// Only tags matching one of these: same key, and same value unless the filter's value
    /// is empty (then any value). No filter lists every tag.
    pub filter: Vec<Tag>,
    /// Where the page starts when no key is named (the previous page's `next`); `None` for
    /// the first page. Ignored when keys are named.
    pub after: Option<TagCursor>,
}

/// The tags listed, grouped by key, and where the next page starts.
pub struct TagListing {
    /// Each key's tags, in listing order.
    pub keys: Vec<KeyTags>,
    /// The cursor of the next page, when there is more (only when no key was named).
    pub next: Option<TagCursor>,
}

impl Operation for ListTagResources {
    const NAME: OpName = OpName::kms("ListTagResources");
    type Output = TagListing;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        tag_lists::touches(&mut self.keys, call.kms)
    }

    async fn execute(self, call: &Call<'_>) -> Result<TagListing, KmsError> {
        if self.keys.is_empty() {
            return every_key(call, &self.filter, self.after.as_ref()).await;
        }
        let kms = call.kms;
        let key_ids = tag_lists::existing(kms, &self.keys).await?;
        let mut listed = Vec::with_capacity(key_ids.len());
        for key_id in key_ids {
            let mut tags = kms.list_key_tags(&key_id).await?;
            tags.retain(|tag| wanted(&self.filter, tag));
            listed.push(KeyTags { key_id, tags });
        }
        Ok(TagListing {
            keys: listed,
            next: None,
        })
    }
}

/// One page of the tags of every key the caller may list the tags of: naming no key asks
/// about the whole account, which the key container allowed, but a key the caller is refused
/// (a Deny, a key policy) stays out of the answer. A page may therefore hold fewer rows than
/// [`TAG_PAGE_ROWS`] (even none) and still have a next page.
async fn every_key(
    call: &Call<'_>,
    filter: &[Tag],
    after: Option<&TagCursor>,
) -> Result<TagListing, KmsError> {
    let page = call
        .kms
        .list_tags_page(filter, after, TAG_PAGE_ROWS)
        .await?;
    let mut keys: Vec<KeyTags> = Vec::new();
    for row in page.rows {
        match keys.last_mut() {
            Some(last) if last.key_id == row.key_id => last.tags.push(row.tag),
            _ => keys.push(KeyTags {
                key_id: row.key_id,
                tags: vec![row.tag],
            }),
        }
    }
    let mut visible = Vec::with_capacity(keys.len());
    for key in keys {
        if call.allows(ListTagResources::NAME, &key.key_id).await? {
            visible.push(key);
        }
    }
    Ok(TagListing {
        keys: visible,
        next: page.next,
    })
}

/// Whether `tag` passes `filter`.
fn wanted(filter: &[Tag], tag: &Tag) -> bool {
    filter.is_empty() || filter.iter().any(|w| tag_matches(w, tag))
}
