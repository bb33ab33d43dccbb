//! ListTagResources: tags of several keys (or of every key, a page at a time), optionally
//! only some tags.
//!
//! Naming keys lists their tags whole (a request names a bounded number of keys). Naming
//! none lists the tags of every key the caller may see, sorted by key id then tag key, at
//! most [`TAG_PAGE_ROWS`] rows a page, resumed after the cursor the previous page returned:
//! the core reads by keyset (see `KeyService::list_tags_page`) and a page reads at most
//! [`TAG_SCAN_ROWS`] rows, so a page costs the same whatever the number of keys and tags.

use openkms_core::store::{KeyTag, tag_matches};
use openkms_core::{KeyRef, KmsError, Tag, TagCursor};

use crate::kms::{KeyTags, tag_lists};
use crate::{Call, OpName, Operation, Touch};

/// The most tag rows one page of ListTagResources naming no key holds.
pub const TAG_PAGE_ROWS: usize = 100;

/// The most tag rows one page of ListTagResources naming no key reads (and keys it judges)
/// looking for rows the caller may see, before it answers with what it found and a cursor:
/// five keyset reads, so a caller refused most keys still gets a bounded answer per request.
pub const TAG_SCAN_ROWS: usize = 5 * TAG_PAGE_ROWS;

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
    /// The secrets whose tags to list instead of keys (`ResourceType=secret`; named, listed
    /// whole).
    pub secrets: Vec<String>,
}

/// The tags listed, grouped by key, and where the next page starts.
pub struct TagListing {
    /// Each key's tags, in listing order.
    pub keys: Vec<KeyTags>,
    /// The cursor of the next page, when there is more (only when no key was named).
    pub next: Option<TagCursor>,
    /// Whether the entries are secrets (their names in `key_id`) rather than keys.
    pub secrets: bool,
}

impl Operation for ListTagResources {
    const NAME: OpName = OpName::kms("ListTagResources");
    type Output = TagListing;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        if !self.secrets.is_empty() {
            return crate::secrets::tags::touches(&self.secrets);
        }
        tag_lists::touches(&mut self.keys, call.kms)
    }

    async fn execute(self, call: &Call<'_>) -> Result<TagListing, KmsError> {
        if !self.secrets.is_empty() {
            let filter = &self.filter;
            let keys =
                crate::secrets::tags::list(call, &self.secrets, |t| wanted(filter, t)).await?;
            return Ok(TagListing {
                keys,
                next: None,
                secrets: true,
            });
        }
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
            secrets: false,
        })
    }
}

/// One page of the tags of every key the caller may list the tags of: naming no key asks
/// about the whole account, which the key container allowed, but a key the caller is refused
/// (a Deny, a key policy) stays out of the answer, and out of the page's cursor too.
///
/// The listing is read by keyset a chunk at a time and each key judged as its rows come by,
/// until [`TAG_PAGE_ROWS`] visible rows are in hand or [`TAG_SCAN_ROWS`] rows have been read.
/// A full page resumes after its last (visible) row; a page cut short by the budget resumes
/// after the last row read, which may belong to a refused key: the codec seals every cursor,
/// so its content is never shown. A page may therefore hold fewer rows than
/// [`TAG_PAGE_ROWS`] (even none) and still have a next page.
async fn every_key(
    call: &Call<'_>,
    filter: &[Tag],
    after: Option<&TagCursor>,
) -> Result<TagListing, KmsError> {
    let mut page = VisiblePage::default();
    let mut position = after.cloned();
    loop {
        let chunk = call
            .kms
            .list_tags_page(filter, position.as_ref(), TAG_PAGE_ROWS)
            .await?;
        let more = chunk.next.is_some();
        let count = chunk.rows.len();
        for (i, row) in chunk.rows.into_iter().enumerate() {
            position = Some(TagCursor::after(&row));
            page.scanned += 1;
            if page.admits(call, &row.key_id).await? {
                page.push(row);
                if page.rows == TAG_PAGE_ROWS {
                    let rest = more || i + 1 < count;
                    return Ok(page.listing(position.filter(|_| rest)));
                }
            }
        }
        if !more {
            return Ok(page.listing(None));
        }
        if page.scanned >= TAG_SCAN_ROWS {
            return Ok(page.listing(position));
        }
    }
}

/// The visible rows of a page being read, grouped by key, and what reading them cost.
#[derive(Default)]
struct VisiblePage {
    keys: Vec<KeyTags>,
    rows: usize,
    scanned: usize,
    /// The last key judged and whether the caller may see it (rows come sorted by key id, so
    /// each key is judged once a page).
    verdict: Option<(String, bool)>,
}

impl VisiblePage {
    /// Whether the caller may list the tags of `key_id`.
    async fn admits(&mut self, call: &Call<'_>, key_id: &str) -> Result<bool, KmsError> {
        if let Some((judged, allowed)) = &self.verdict
            && judged == key_id
        {
            return Ok(*allowed);
        }
        let allowed = call.allows(ListTagResources::NAME, key_id).await?;
        self.verdict = Some((key_id.to_owned(), allowed));
        Ok(allowed)
    }

    fn push(&mut self, row: KeyTag) {
        self.rows += 1;
        match self.keys.last_mut() {
            Some(last) if last.key_id == row.key_id => last.tags.push(row.tag),
            _ => self.keys.push(KeyTags {
                key_id: row.key_id,
                tags: vec![row.tag],
            }),
        }
    }

    fn listing(self, next: Option<TagCursor>) -> TagListing {
        TagListing {
            keys: self.keys,
            next,
            secrets: false,
        }
    }
}

/// Whether `tag` passes `filter`.
fn wanted(filter: &[Tag], tag: &Tag) -> bool {
    filter.is_empty() || filter.iter().any(|w| tag_matches(w, tag))
}
