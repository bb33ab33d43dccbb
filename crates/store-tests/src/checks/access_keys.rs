//! Checks for `create_access_key` and `get_access_key`.
//!
//! Owns the exact round trip of AccessKey records and the uniqueness of their ids. Does not
//! check what the wrapped secret contains: to a store it is opaque bytes.

use openkms_core::Store;

use super::assert_already_exists;
use crate::StoreFactory;
use crate::fixtures::access_key;

/// Active and inactive AccessKeys read back exactly; a taken id is `AlreadyExists`.
pub async fn access_key_round_trip_and_duplicate<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let root = access_key(0, true);
    let user = access_key(1, false);
    store
        .create_access_key(&root)
        .await
        .expect("create_access_key");
    store
        .create_access_key(&user)
        .await
        .expect("create_access_key");
    let read = store
        .get_access_key(&root.access_key_id)
        .await
        .expect("get_access_key");
    assert_eq!(
        read.as_ref(),
        Some(&root),
        "an active AccessKey reads back exactly"
    );
    let read = store
        .get_access_key(&user.access_key_id)
        .await
        .expect("get_access_key");
    assert_eq!(
        read.as_ref(),
        Some(&user),
        "an inactive AccessKey reads back exactly"
    );
    let mut clash = access_key(2, false);
    clash.access_key_id = root.access_key_id.clone();
    let result = store.create_access_key(&clash).await;
    assert_already_exists(result, "create_access_key with a taken id");
    let read = store
        .get_access_key(&root.access_key_id)
        .await
        .expect("get_access_key");
    assert_eq!(read, Some(root), "the first AccessKey is kept");
}
