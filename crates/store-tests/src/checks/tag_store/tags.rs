//! Checks for `put_tags` and `delete_tags`.
//!
//! Owns the upsert rule of `put_tags` (new keys added, present keys get the new value, others
//! kept), the key it needs, its tag limit, and that `delete_tags` removes exactly the named
//! tags. Tags given at creation are covered in `keys`; tags of a destroyed key in `destroy`;
//! the limit under racing writers in `concurrency`.

use openkms_core::{StoreError, Tag};

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::{assert_key_stored, assert_limit_exceeded, assert_reference_not_found, create};
use crate::fixtures::{MAX_TAGS, full_key, key_id, minimal_key, numbered_tag, tag};

/// Reads the tags of key `n`, panicking if the read fails.
async fn tags_of(store: &impl Store, n: u32) -> Vec<Tag> {
    store.list_tags(&key_id(n)).await.expect("list_tags")
}

/// `put_tags` adds new tag keys and replaces the value of present ones, on that key only;
/// tag keys are case-sensitive and list in byte order.
pub async fn put_tags_upserts<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &full_key(1)).await;
    create(&store, &full_key(2)).await;
    let put = [
        tag("mid", "new"),
        tag("new", "v"),
        tag("Beta", "b"),
        tag("alpha", "a"),
    ];
    store
        .put_tags(&key_id(1), &put, MAX_TAGS)
        .await
        .expect("put_tags");
    let expected = vec![
        tag("Alpha", ""),
        tag("Beta", "b"),
        tag("alpha", "a"),
        tag("mid", "new"),
        tag("new", "v"),
        tag("zeta", "last"),
    ];
    assert_eq!(tags_of(&store, 1).await, expected, "merged, in byte order");
    store
        .put_tags(&key_id(1), &[], MAX_TAGS)
        .await
        .expect("put_tags of nothing");
    assert_eq!(tags_of(&store, 1).await, expected, "no tags, no change");
    assert_key_stored(&store, &full_key(2)).await;
}

/// `put_tags` on a key that does not exist is `ReferenceNotFound` and keeps nothing.
pub async fn put_tags_missing_key<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &minimal_key(1)).await;
    let result = store.put_tags(&key_id(2), &[tag("k", "v")], MAX_TAGS).await;
    assert_reference_not_found(result, "put_tags on a missing key");
    assert!(tags_of(&store, 2).await.is_empty(), "no tags kept");
    assert!(tags_of(&store, 1).await.is_empty(), "other keys untouched");
}

/// `delete_tags` removes exactly the named tag keys of that key; absent ones are ignored.
pub async fn delete_tags_removes_listed<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &full_key(1)).await;
    create(&store, &full_key(2)).await;
    let names = ["zeta", "absent", "Alpha", "MID"].map(str::to_owned);
    store
        .delete_tags(&key_id(1), &names)
        .await
        .expect("delete_tags");
    assert_eq!(
        tags_of(&store, 1).await,
        vec![tag("mid", "\u{4e2d}")],
        "only the named tags are removed, case-sensitively"
    );
    store
        .delete_tags(&key_id(1), &[])
        .await
        .expect("delete_tags of nothing");
    assert_eq!(tags_of(&store, 1).await.len(), 1, "no names, no change");
    assert_key_stored(&store, &full_key(2)).await;
    let names = ["mid".to_owned()];
    store
        .delete_tags(&key_id(1), &names)
        .await
        .expect("delete_tags");
    assert!(tags_of(&store, 1).await.is_empty(), "every tag removed");
    store
        .put_tags(&key_id(1), &[tag("mid", "again")], MAX_TAGS)
        .await
        .expect("put_tags");
    assert_eq!(tags_of(&store, 1).await, vec![tag("mid", "again")]);
}

/// `put_tags` of `tags` on key `n` under the service's limit.
async fn put(store: &impl Store, n: u32, tags: &[Tag]) -> Result<(), StoreError> {
    store.put_tags(&key_id(n), tags, MAX_TAGS).await
}

/// `put_tags` keeps a key to `max_tags` tags, counted after the write: filling the key up to
/// the limit is `Ok`; one tag more is `LimitExceeded` and writes nothing of that call (not
/// even its replacements); replacing values at the limit is `Ok`, a tag key given twice
/// counting once; and the limit is per key.
pub async fn put_tags_holds_the_limit<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &minimal_key(1)).await;
    create(&store, &minimal_key(2)).await;
    let first: Vec<Tag> = (0..MAX_TAGS - 1).map(|i| numbered_tag(i, "v")).collect();
    put(&store, 1, &first)
        .await
        .expect("put_tags below the limit");
    let last = [numbered_tag(0, "v"), numbered_tag(MAX_TAGS - 1, "v")];
    put(&store, 1, &last)
        .await
        .expect("put_tags up to the limit");
    let full: Vec<Tag> = (0..MAX_TAGS).map(|i| numbered_tag(i, "v")).collect();
    assert_eq!(tags_of(&store, 1).await, full, "the key holds the limit");
    let over = [numbered_tag(0, "changed"), tag("extra", "v")];
    assert_limit_exceeded(put(&store, 1, &over).await, "one tag past the limit");
    assert_eq!(
        tags_of(&store, 1).await,
        full,
        "a refused put_tags writes nothing"
    );
    let replace = [
        numbered_tag(0, "new"),
        numbered_tag(MAX_TAGS - 1, "new"),
        numbered_tag(0, "newer"),
    ];
    put(&store, 1, &replace)
        .await
        .expect("replacing at the limit");
    let mut replaced = full;
    replaced[0] = numbered_tag(0, "newer");
    replaced[MAX_TAGS - 1] = numbered_tag(MAX_TAGS - 1, "new");
    assert_eq!(tags_of(&store, 1).await, replaced, "values replaced");
    let other = [tag("extra", "v")];
    put(&store, 2, &other)
        .await
        .expect("another key's tags do not count");
    let two = [tag("a", "v"), tag("b", "v")];
    let result = store.put_tags(&key_id(2), &two, 2).await;
    assert_limit_exceeded(result, "put_tags past a limit of 2");
    assert_eq!(tags_of(&store, 2).await, other, "nothing of it was written");
}
