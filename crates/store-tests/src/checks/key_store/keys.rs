//! Checks for `create_key`, `get_key`, `get_version` and `list_tags`.
//!
//! Owns the exact round trip of every key field and the all-or-nothing rule of `create_key`.
//! Does not cover concurrent creation (see `concurrency`) or reopening (see `durability`).

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::{assert_already_exists, assert_key_stored, assert_reference_not_found, create};
use crate::fixtures::{blob, full_key, key_id, minimal_key, tag, version_id};
use openkms_core::{KeySpec, KeyUsage};

/// A key with every `Option` set, SM4, pending deletion and tags reads back exactly.
pub async fn create_key_round_trips_every_field<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = full_key(1);
    create(&store, &new).await;
    assert_key_stored(&store, &new).await;
}

/// A key with every `Option` unset, AES-256, enabled and no tags reads back exactly.
pub async fn create_key_round_trips_empty_options<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let new = minimal_key(1);
    create(&store, &new).await;
    assert_key_stored(&store, &new).await;
    let full = full_key(2);
    create(&store, &full).await;
    assert_key_stored(&store, &new).await;
    assert_key_stored(&store, &full).await;
}

/// Key pairs of every asymmetric spec, with either usage, read back exactly (the store keeps
/// spec and usage by name, so a backend with a narrower column would fail here).
pub async fn create_key_round_trips_key_pairs<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let specs = [
        (KeySpec::Rsa2048, KeyUsage::SignVerify),
        (KeySpec::Rsa3072, KeyUsage::EncryptDecrypt),
        (KeySpec::Rsa4096, KeyUsage::SignVerify),
        (KeySpec::EcP256, KeyUsage::SignVerify),
        (KeySpec::EcP256K, KeyUsage::SignVerify),
        (KeySpec::EcSm2, KeyUsage::EncryptDecrypt),
    ];
    let mut made = Vec::new();
    for (n, (spec, usage)) in (1..).zip(specs) {
        let mut new = minimal_key(n);
        new.key.spec = spec;
        new.key.usage = usage;
        create(&store, &new).await;
        made.push(new);
    }
    for new in &made {
        assert_key_stored(&store, new).await;
    }
}

/// A second key with a taken key id is `AlreadyExists` and changes nothing.
pub async fn create_key_duplicate_key_id<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let first = full_key(1);
    create(&store, &first).await;
    let mut second = minimal_key(1);
    second.key.primary_version = version_id(99);
    second.version.version_id = version_id(99);
    second.tags = vec![tag("extra", "x")];
    let result = store
        .create_key(&second.key, &second.version, &second.tags)
        .await;
    assert_already_exists(result, "create_key with a taken key id");
    assert_key_stored(&store, &first).await;
    let orphan = store
        .get_version(&version_id(99))
        .await
        .expect("get_version");
    assert_eq!(orphan, None, "the refused key's version was not kept");
}

/// A new key whose version id is taken is refused whole: no key, no tags, no version left.
pub async fn create_key_is_atomic<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let first = full_key(1);
    create(&store, &first).await;
    let mut second = full_key(2);
    second.key.primary_version = version_id(1);
    second.version.version_id = version_id(1);
    second.version.wrapped_material = blob(2);
    let result = store
        .create_key(&second.key, &second.version, &second.tags)
        .await;
    assert_already_exists(result, "create_key with a taken version id");
    assert_eq!(
        store.get_key(&key_id(2)).await.expect("get_key"),
        None,
        "no partial key"
    );
    let tags = store.list_tags(&key_id(2)).await.expect("list_tags");
    assert!(tags.is_empty(), "no partial tags: {tags:?}");
    assert!(
        store.is_empty().await.is_ok_and(|e| !e),
        "the first key is still there"
    );
    assert_key_stored(&store, &first).await;
    create(&store, &full_key(2)).await;
    assert_key_stored(&store, &full_key(2)).await;
}

/// A version naming a key that does not exist is `ReferenceNotFound`, and nothing is kept.
pub async fn create_key_missing_version_key<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let mut new = full_key(1);
    new.version.key_id = key_id(7);
    let result = store.create_key(&new.key, &new.version, &new.tags).await;
    assert_reference_not_found(
        result,
        "create_key whose version names another, missing key",
    );
    assert_eq!(
        store.get_key(&key_id(1)).await.expect("get_key"),
        None,
        "no partial key"
    );
    assert_eq!(
        store
            .get_version(&version_id(1))
            .await
            .expect("get_version"),
        None
    );
    assert!(
        store.is_empty().await.expect("is_empty"),
        "nothing was written"
    );
}
