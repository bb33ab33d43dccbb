//! Checks for the paged tag reads (`page_tags`): every key's tags sorted by key id, then tag
//! key, a page at a time, with or without a tag filter.
//!
//! Owns that walking the pages gives exactly every tag row (of `list_tags` for each key),
//! filtered as the filter says, for every page size, including resuming at a cursor whose
//! tag key differs from the filter's. Does not cover writes (see `tags`).

use openkms_core::store::tag_matches;
use openkms_core::{KeyTag, Tag, TagCursor};

use crate::StoreFactory;
use crate::checks::create;
use crate::checks::prelude::*;
use crate::fixtures::{disabled_key, full_key, key_id, minimal_key, tag};

/// Every row reached by walking pages of `limit` from `start`.
async fn walk(
    store: &impl Store,
    filter: Option<&Tag>,
    start: Option<TagCursor>,
    limit: usize,
) -> Vec<KeyTag> {
    let mut all = Vec::new();
    let mut after = start;
    loop {
        let page = store
            .page_tags(filter, after.as_ref(), limit)
            .await
            .expect("page_tags");
        assert!(page.len() <= limit, "a page holds at most `limit` rows");
        let Some(last) = page.last() else {
            return all;
        };
        after = Some(TagCursor::after(last));
        all.extend(page);
    }
}

/// Keys with tags (three on each full key, one on each disabled key) and one without.
async fn sample(store: &impl Store) -> Vec<KeyTag> {
    for n in 1..=6u32 {
        match n % 3 {
            0 => create(store, &full_key(n)).await,
            1 => create(store, &disabled_key(n)).await,
            _ => create(store, &minimal_key(n)).await,
        }
    }
    store
        .put_tags(&key_id(4), &[tag("mid", "other"), tag("n", "4")], 10)
        .await
        .expect("put_tags");
    let mut rows = Vec::new();
    for n in 1..=6u32 {
        for t in store.list_tags(&key_id(n)).await.expect("list_tags") {
            rows.push(KeyTag {
                key_id: key_id(n),
                tag: t,
            });
        }
    }
    rows
}

/// Walking the unfiltered pages, at any size, gives every tag row in order; nothing on an
/// empty store.
pub async fn page_tags_walks_every_tag<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(walk(&store, None, None, 5).await.is_empty());
    let rows = sample(&store).await;
    assert!(rows.len() > 6);
    for limit in [1, 2, 4, 100] {
        assert_eq!(
            walk(&store, None, None, limit).await,
            rows,
            "pages of {limit}"
        );
    }
}

/// A filter by tag key (any value) or by key and value pages exactly the matching rows,
/// also from a cursor left by a row with another tag key.
pub async fn page_tags_filtered_by_tag<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let rows = sample(&store).await;
    let filters = [
        tag("mid", ""),
        tag("mid", "other"),
        tag("n", ""),
        tag("n", "1"),
        tag("absent", ""),
    ];
    for filter in &filters {
        let expected: Vec<KeyTag> = rows
            .iter()
            .filter(|r| tag_matches(filter, &r.tag))
            .cloned()
            .collect();
        for limit in [1, 2, 100] {
            let got = walk(&store, Some(filter), None, limit).await;
            assert_eq!(got, expected, "{filter:?} by {limit}");
        }
        for start in &rows {
            let cursor = TagCursor::after(start);
            let rest: Vec<KeyTag> = expected
                .iter()
                .filter(|r| cursor.precedes(r))
                .cloned()
                .collect();
            let got = walk(&store, Some(filter), Some(cursor), 2).await;
            assert_eq!(got, rest, "{filter:?} after {start:?}");
        }
    }
}
