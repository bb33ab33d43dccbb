//! Checks for the paged alias reads: `page_aliases`, `count_aliases` and `alias_name_at`.
//!
//! Owns that walking the pages by name gives exactly `list_aliases` (every alias, or one
//! key's), for every page size, with matching counts and positions. Does not cover the
//! unpaged order (see `aliases`).

use openkms_core::AliasRecord;

use super::aliases::NAMES;
use crate::StoreFactory;
use crate::checks::create;
use crate::checks::prelude::*;
use crate::fixtures::{alias, full_key, key_id, minimal_key};

/// Every alias reached by walking pages of `limit` (all, or one key's).
async fn walk(store: &impl Store, key_id: Option<&str>, limit: usize) -> Vec<AliasRecord> {
    let mut all: Vec<AliasRecord> = Vec::new();
    loop {
        let after = all.last().map(|a| a.name.clone());
        let page = store
            .page_aliases(key_id, after.as_deref(), limit)
            .await
            .expect("page_aliases");
        assert!(page.len() <= limit, "a page holds at most `limit` aliases");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// Pages of aliases, counts and positions agree with `list_aliases`, all or per key.
pub async fn page_aliases_walks_and_counts<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(walk(&store, None, 3).await.is_empty());
    assert_eq!(store.count_aliases(None).await.expect("count"), 0);
    create(&store, &full_key(1)).await;
    create(&store, &minimal_key(2)).await;
    create(&store, &minimal_key(3)).await;
    for (i, name) in NAMES.iter().enumerate() {
        let record = alias(name, &key_id(1 + (i % 2) as u32));
        store.create_alias(&record).await.expect("create_alias");
    }
    let ids = [None, Some(key_id(1)), Some(key_id(2)), Some(key_id(3))];
    for key in ids.iter().map(Option::as_deref) {
        let listed = store.list_aliases(key).await.expect("list_aliases");
        for limit in [1, 3, 100] {
            assert_eq!(walk(&store, key, limit).await, listed, "{key:?} by {limit}");
        }
        let count = store.count_aliases(key).await.expect("count_aliases");
        assert_eq!(count, listed.len() as u64, "count of {key:?}");
        for (i, a) in listed.iter().enumerate() {
            let at = store.alias_name_at(key, i as u64).await;
            assert_eq!(at.expect("alias_name_at").as_deref(), Some(a.name.as_str()));
        }
        let past = store.alias_name_at(key, listed.len() as u64).await;
        assert_eq!(past.expect("alias_name_at"), None);
    }
}
