//! The checks of [`openkms_core::RewrapStore`]: every wrapped blob is listed, and a
//! replacement is written whole or not at all.

use openkms_core::{Rewrap, RewrapStore, WrappedBlob, WrappedRow};

use crate::StoreFactory;
use crate::checks::create;
use crate::checks::prelude::*;
use crate::fixtures::{access_key, extra_version, full_key, minimal_key, rotated};

/// A store with two keys (one with a second version) and two AccessKeys.
async fn populated<F: StoreFactory>(factory: &F) -> F::Store {
    let store = factory.open().await;
    create(&store, &full_key(1)).await;
    let second = minimal_key(2);
    create(&store, &second).await;
    let version = extra_version(2, 1, 1_800_000_000);
    store
        .add_version(&rotated(&second.key, &version), &version)
        .await
        .expect("add_version");
    for n in [0, 3] {
        store
            .create_access_key(&access_key(n, true))
            .await
            .expect("create_access_key");
    }
    store
        .put_meta_if_absent("check", b"old check")
        .await
        .expect("put_meta");
    store
}

/// The blobs sorted, so two listings compare whatever order a backend reads in.
async fn sorted_blobs(store: &impl RewrapStore) -> Vec<WrappedBlob> {
    let mut blobs = store.wrapped_blobs().await.expect("wrapped_blobs");
    blobs.sort_by_key(|b| format!("{:?}", b.row));
    blobs
}

/// Every version's material and every AccessKey's secret are listed, exactly, and only they.
pub async fn wrapped_blobs_lists_versions_and_access_keys<F: StoreFactory>(factory: F) {
    let store = populated(&factory).await;
    let blobs = sorted_blobs(&store).await;
    let full = full_key(1);
    let version = extra_version(2, 1, 1_800_000_000);
    let mut expected = vec![
        WrappedBlob {
            row: WrappedRow::Version {
                key_id: full.key.key_id.clone(),
                version_id: full.version.version_id.clone(),
                software: true,
            },
            bytes: full.version.wrapped_material.clone(),
        },
        WrappedBlob {
            row: WrappedRow::Version {
                key_id: version.key_id.clone(),
                version_id: version.version_id.clone(),
                software: true,
            },
            bytes: version.wrapped_material.clone(),
        },
    ];
    let first = minimal_key(2).version;
    expected.push(WrappedBlob {
        row: WrappedRow::Version {
            key_id: first.key_id.clone(),
            version_id: first.version_id.clone(),
            software: true,
        },
        bytes: first.wrapped_material,
    });
    for n in [0, 3] {
        let ak = access_key(n, true);
        expected.push(WrappedBlob {
            row: WrappedRow::AccessKey {
                access_key_id: ak.access_key_id,
            },
            bytes: ak.wrapped_secret,
        });
    }
    expected.sort_by_key(|b| format!("{:?}", b.row));
    assert_eq!(blobs, expected, "every wrapped blob, byte for byte");
}

/// A replacement writes every row and metadata value it names, durably.
pub async fn replace_wrapped_writes_every_row<F: StoreFactory>(factory: F) {
    let store = populated(&factory).await;
    let mut changes: Vec<Rewrap> = sorted_blobs(&store)
        .await
        .into_iter()
        .map(|b| Rewrap {
            new: [b"new:".as_slice(), &b.bytes].concat(),
            old: b.bytes,
            row: b.row,
        })
        .collect();
    changes.push(Rewrap {
        row: WrappedRow::Meta {
            name: "check".into(),
        },
        old: b"old check".to_vec(),
        new: b"new check".to_vec(),
    });
    store
        .replace_wrapped(&changes)
        .await
        .expect("replace_wrapped");
    drop(store);
    let store = factory.open().await;
    let after = sorted_blobs(&store).await;
    let expected: Vec<Vec<u8>> = changes[..changes.len() - 1]
        .iter()
        .map(|c| c.new.clone())
        .collect();
    let got: Vec<Vec<u8>> = after.into_iter().map(|b| b.bytes).collect();
    assert_eq!(got, expected, "every blob replaced, after a reopen");
    assert_eq!(
        store.get_meta("check").await.expect("get_meta").as_deref(),
        Some(&b"new check"[..]),
        "the metadata value replaced"
    );
    let key = store
        .get_version(&full_key(1).version.version_id)
        .await
        .expect("get_version")
        .expect("the version is still there");
    assert!(
        key.wrapped_material.starts_with(b"new:"),
        "read through KeyStore too"
    );
}

/// If one row no longer holds what was read, nothing is written.
pub async fn replace_wrapped_is_all_or_nothing<F: StoreFactory>(factory: F) {
    let store = populated(&factory).await;
    let before = sorted_blobs(&store).await;
    let mut changes: Vec<Rewrap> = before
        .iter()
        .map(|b| Rewrap {
            row: b.row.clone(),
            old: b.bytes.clone(),
            new: b"replaced".to_vec(),
        })
        .collect();
    changes.push(Rewrap {
        row: WrappedRow::Meta {
            name: "check".into(),
        },
        old: b"old check".to_vec(),
        new: b"new check".to_vec(),
    });
    let last = changes.len() - 2;
    changes[last].old = b"not what is stored".to_vec();
    let refused = store.replace_wrapped(&changes).await;
    assert!(
        matches!(refused, Err(openkms_core::StoreError::Conflict)),
        "a stale row is a Conflict: {refused:?}"
    );
    let missing = vec![Rewrap {
        row: WrappedRow::Meta {
            name: "absent".into(),
        },
        old: b"x".to_vec(),
        new: b"y".to_vec(),
    }];
    let refused = store.replace_wrapped(&missing).await;
    assert!(
        matches!(refused, Err(openkms_core::StoreError::Conflict)),
        "a missing row is a Conflict: {refused:?}"
    );
    drop(store);
    let store = factory.open().await;
    assert_eq!(sorted_blobs(&store).await, before, "nothing was written");
    assert_eq!(
        store.get_meta("check").await.expect("get_meta").as_deref(),
        Some(&b"old check"[..]),
        "the metadata value neither"
    );
}
