//! The checks of [`openkms_core::MetaStore`]: the put-if-absent rule for named metadata, and
//! lookups of unknown names and ids.

use crate::StoreFactory;
use crate::checks::create;
use crate::checks::prelude::*;
use crate::fixtures::{full_key, version_id};

/// `put_meta_if_absent` writes once, never overwrites, and `get_meta` returns exact bytes.
pub async fn meta_put_if_absent<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let get = |name: &'static str| store.get_meta(name);
    assert_eq!(
        get("root-check").await.expect("get_meta"),
        None,
        "unknown meta is None"
    );
    let first: &[u8] = &[0x00, 0x01, 0xfe, 0xff, b'x'];
    let written = store
        .put_meta_if_absent("root-check", first)
        .await
        .expect("put_meta");
    assert!(written, "the first put_meta_if_absent writes");
    let again = store
        .put_meta_if_absent("root-check", b"other")
        .await
        .expect("put_meta");
    assert!(!again, "a second put_meta_if_absent reports false");
    let stored = get("root-check").await.expect("get_meta");
    assert_eq!(
        stored.as_deref(),
        Some(first),
        "the first value is kept, byte for byte"
    );
    assert!(
        store
            .put_meta_if_absent("empty", b"")
            .await
            .expect("put_meta"),
        "empty value"
    );
    let empty = get("empty").await.expect("get_meta");
    assert_eq!(
        empty.as_deref(),
        Some(&b""[..]),
        "an empty value reads back as empty"
    );
    assert_eq!(
        get("Root-Check").await.expect("get_meta"),
        None,
        "names are case-sensitive"
    );
}

/// Every lookup of an unknown id returns `Ok(None)` (or an empty list), not an error.
pub async fn get_unknown_returns_none<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let unknown = "00000000-0000-4000-8000-00000000dead";
    assert_eq!(store.get_key(unknown).await.expect("get_key"), None);
    assert_eq!(store.get_version(unknown).await.expect("get_version"), None);
    assert_eq!(
        store.list_tags(unknown).await.expect("list_tags"),
        Vec::new()
    );
    assert_eq!(
        store.get_alias("alias/none").await.expect("get_alias"),
        None
    );
    assert_eq!(
        store
            .get_access_key("LTAInone")
            .await
            .expect("get_access_key"),
        None
    );
    assert_eq!(store.get_meta("none").await.expect("get_meta"), None);
    create(&store, &full_key(1)).await;
    let other = version_id(2);
    assert_eq!(
        store.get_version(&other).await.expect("get_version"),
        None,
        "other ids"
    );
    let by_version_id = store.get_key(&version_id(1)).await.expect("get_key");
    assert_eq!(by_version_id, None, "a version id is not a key id");
}
