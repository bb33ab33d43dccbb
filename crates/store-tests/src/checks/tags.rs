//! Checks for `put_tags` and `delete_tags`.
//!
//! Owns the upsert rule of `put_tags` (new keys added, present keys get the new value, others
//! kept), the key it needs, and that `delete_tags` removes exactly the named tags. Tags given
//! at creation are covered in `keys`; tags of a destroyed key in `destroy`.

use openkms_core::{Store, Tag};

use super::{assert_key_stored, assert_reference_not_found, create};
use crate::StoreFactory;
use crate::fixtures::{full_key, key_id, minimal_key, tag};

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
    store.put_tags(&key_id(1), &put).await.expect("put_tags");
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
        .put_tags(&key_id(1), &[])
        .await
        .expect("put_tags of nothing");
    assert_eq!(tags_of(&store, 1).await, expected, "no tags, no change");
    assert_key_stored(&store, &full_key(2)).await;
}

/// `put_tags` on a key that does not exist is `ReferenceNotFound` and keeps nothing.
pub async fn put_tags_missing_key<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    create(&store, &minimal_key(1)).await;
    let result = store.put_tags(&key_id(2), &[tag("k", "v")]).await;
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
        .put_tags(&key_id(1), &[tag("mid", "again")])
        .await
        .expect("put_tags");
    assert_eq!(tags_of(&store, 1).await, vec![tag("mid", "again")]);
}
