//! Checks for the paged key reads: `page_keys`, `count_keys` and `key_cursor_at`.
//!
//! Owns that walking the pages from cursor to cursor gives exactly the listing of
//! `list_keys` (filtered by the selection), for every page size, that a page past the end is
//! empty, that the counts match, and that the cursor at a position is the cursor after the
//! key at that position. Does not cover the unpaged orderings (see `listing`).

use openkms_core::{
    KeyCursor, KeyRecord, KeySelection, KeySpec, KeyState, KeyUsage, ProtectionLevel,
};

use crate::StoreFactory;
use crate::checks::create;
use crate::checks::prelude::*;
use crate::fixtures::{disabled_key, full_key, minimal_key};

/// Every key reached by walking `selection` in pages of `limit`, checking each page's size.
async fn walk(store: &impl Store, selection: &KeySelection, limit: usize) -> Vec<KeyRecord> {
    let mut all = Vec::new();
    let mut after: Option<KeyCursor> = None;
    loop {
        let page = store
            .page_keys(selection, after.as_ref(), limit)
            .await
            .expect("page_keys");
        assert!(page.len() <= limit, "a page holds at most `limit` keys");
        let Some(last) = page.last() else { break };
        after = Some(KeyCursor::after(last));
        let short = page.len() < limit;
        all.extend(page);
        if short {
            let rest = store.page_keys(selection, after.as_ref(), limit).await;
            assert!(
                rest.expect("page_keys").is_empty(),
                "nothing after a short page"
            );
            break;
        }
    }
    all
}

/// Keys of every state and both specs, created at equal, negative and large times.
async fn sample(store: &impl Store) {
    let mut made = Vec::new();
    for n in 1..=12u32 {
        let mut new = match n % 3 {
            0 => full_key(n),
            1 => minimal_key(n),
            _ => disabled_key(n),
        };
        new.key.created_at = [100, -7, 100, i64::MAX, 5][n as usize % 5];
        made.push(new);
    }
    for new in &made {
        create(store, new).await;
    }
}

/// Walking the pages of every key, at any page size, is `list_keys`; an empty store has
/// empty pages, a count of 0 and no cursor.
pub async fn page_keys_walks_the_listing<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let all = KeySelection::all();
    assert!(
        store
            .page_keys(&all, None, 10)
            .await
            .expect("page")
            .is_empty()
    );
    assert_eq!(store.count_keys(&all).await.expect("count"), 0);
    assert_eq!(store.key_cursor_at(&all, 0).await.expect("at"), None);
    sample(&store).await;
    let listed = store.list_keys().await.expect("list_keys");
    assert_eq!(listed.len(), 12);
    for limit in [1, 2, 5, 12, 100] {
        assert_eq!(walk(&store, &all, limit).await, listed, "pages of {limit}");
    }
    assert_eq!(store.count_keys(&all).await.expect("count"), 12);
    let after_last = KeyCursor::after(listed.last().expect("a key"));
    let past = store.page_keys(&all, Some(&after_last), 10).await;
    assert!(past.expect("page_keys").is_empty(), "a page past the end");
}

/// The selections ListKeys' filters become.
fn selections() -> Vec<KeySelection> {
    let all = KeySelection::all;
    vec![
        KeySelection {
            states: Some(vec![KeyState::Enabled]),
            ..all()
        },
        KeySelection {
            states: Some(vec![KeyState::Disabled, KeyState::PendingDeletion]),
            ..all()
        },
        KeySelection {
            specs: Some(vec![KeySpec::AliyunSm4]),
            ..all()
        },
        KeySelection {
            usages: Some(vec![KeyUsage::EncryptDecrypt]),
            ..all()
        },
        KeySelection {
            protection_levels: Some(vec![ProtectionLevel::Software]),
            ..all()
        },
        KeySelection {
            states: Some(vec![KeyState::PendingDeletion, KeyState::Enabled]),
            specs: Some(vec![KeySpec::AliyunAes256]),
            ..all()
        },
        KeySelection {
            states: Some(Vec::new()),
            ..all()
        },
        KeySelection {
            nothing: true,
            ..all()
        },
    ]
}

/// Each selection pages, counts and positions exactly the keys it matches, in listing order.
pub async fn page_keys_filters_and_counts<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    sample(&store).await;
    let listed = store.list_keys().await.expect("list_keys");
    for selection in selections() {
        let expected: Vec<KeyRecord> = listed
            .iter()
            .filter(|k| selection.matches(k))
            .cloned()
            .collect();
        assert_eq!(walk(&store, &selection, 2).await, expected, "{selection:?}");
        let count = store.count_keys(&selection).await.expect("count_keys");
        assert_eq!(count, expected.len() as u64, "count of {selection:?}");
        for (i, key) in expected.iter().enumerate() {
            let at = store.key_cursor_at(&selection, i as u64).await;
            assert_eq!(at.expect("key_cursor_at"), Some(KeyCursor::after(key)));
        }
        let past = store.key_cursor_at(&selection, expected.len() as u64).await;
        assert_eq!(
            past.expect("key_cursor_at"),
            None,
            "past the end of {selection:?}"
        );
    }
}
