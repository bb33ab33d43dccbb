//! The checks of [`openkms_core::MetaStore`]: the put-if-absent rule for named metadata, the
//! compare-and-swap of `replace_meta_if` (on which HSM message budgets rely), and lookups of
//! unknown names and ids.

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

/// `replace_meta_if` writes only over the expected value, never creates a name, and leaves
/// other names alone.
pub async fn meta_replace_if_swaps_only_over_the_expected_value<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let swapped = store.replace_meta_if("count", b"", b"1").await;
    assert!(
        !swapped.expect("replace_meta_if"),
        "an absent name is not created"
    );
    assert_eq!(store.get_meta("count").await.expect("get_meta"), None);
    assert!(store.put_meta_if_absent("count", b"1").await.expect("put"));
    assert!(store.put_meta_if_absent("other", b"1").await.expect("put"));
    let stale = store.replace_meta_if("count", b"0", b"2").await;
    assert!(!stale.expect("replace_meta_if"), "a stale expected value");
    let swapped = store.replace_meta_if("count", b"1", b"2").await;
    assert!(swapped.expect("replace_meta_if"), "the current value");
    let again = store.replace_meta_if("count", b"1", b"3").await;
    assert!(!again.expect("replace_meta_if"), "the same swap twice");
    let value = store.get_meta("count").await.expect("get_meta");
    assert_eq!(value.as_deref(), Some(&b"2"[..]));
    let other = store.get_meta("other").await.expect("get_meta");
    assert_eq!(other.as_deref(), Some(&b"1"[..]), "other names untouched");
}

/// Writers racing to replace the same value: exactly one succeeds.
pub async fn meta_replace_if_lets_one_of_racing_writers_win<F: StoreFactory>(factory: F) {
    let store = std::sync::Arc::new(factory.open().await);
    assert!(store.put_meta_if_absent("race", b"0").await.expect("put"));
    let results = crate::checks::race::race(&store, 8, |s, i| async move {
        let value = [b'a' + i as u8];
        s.replace_meta_if("race", b"0", &value).await
    })
    .await;
    let won: Vec<u8> = results
        .iter()
        .filter(|(_, r)| *r.as_ref().expect("replace_meta_if"))
        .map(|(i, _)| b'a' + *i as u8)
        .collect();
    assert_eq!(won.len(), 1, "exactly one writer wins");
    let value = store.get_meta("race").await.expect("get_meta");
    assert_eq!(value.as_deref(), Some(&won[..]));
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
