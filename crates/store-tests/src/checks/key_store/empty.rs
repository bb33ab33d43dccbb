//! `is_empty`: the "fresh data directory" test the server uses at first start.

use crate::StoreFactory;
use crate::checks::create;
use crate::checks::prelude::*;
use crate::fixtures::{access_key, full_key};

/// `is_empty` is true on fresh storage, unaffected by metadata, false once a key exists.
pub async fn is_empty_tracks_keys<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(
        store.is_empty().await.expect("is_empty"),
        "fresh storage is empty"
    );
    assert!(
        store
            .put_meta_if_absent("account", b"1")
            .await
            .expect("put_meta")
    );
    assert!(
        store.is_empty().await.expect("is_empty"),
        "metadata alone leaves it empty"
    );
    create(&store, &full_key(1)).await;
    assert!(
        !store.is_empty().await.expect("is_empty"),
        "a key makes it non-empty"
    );
}

/// `is_empty` turns false once an AccessKey exists, even with no keys.
pub async fn is_empty_tracks_access_keys<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(
        store.is_empty().await.expect("is_empty"),
        "fresh storage is empty"
    );
    store
        .create_access_key(&access_key(0, true))
        .await
        .expect("create_access_key");
    assert!(
        !store.is_empty().await.expect("is_empty"),
        "an AccessKey makes it non-empty"
    );
}
