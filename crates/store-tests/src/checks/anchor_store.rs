//! The checks of [`openkms_core::AnchorStore`]: one audit anchor per node, replaced in place,
//! kept apart from every other record, durable across a reopen.

use openkms_core::AuditAnchor;

use crate::StoreFactory;
use crate::checks::prelude::*;

/// An anchor at `seq` whose hash is `digit` repeated.
fn anchor(seq: u64, digit: char) -> AuditAnchor {
    AuditAnchor {
        seq,
        hash: digit.to_string().repeat(64),
    }
}

/// Reads `node`'s anchor, panicking if the read fails.
async fn read(store: &impl AnchorStore, node: &str) -> Option<AuditAnchor> {
    store.audit_anchor(node).await.expect("audit_anchor")
}

/// An unknown node has none; a set anchor reads back exactly; a later one replaces it (also
/// a lower one: the store keeps what it is given); nodes do not see each other's.
pub async fn audit_anchor_is_replaced_per_node<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert_eq!(read(&store, "node-a").await, None, "no anchor yet");
    store
        .set_audit_anchor("node-a", &anchor(7, 'a'))
        .await
        .expect("set_audit_anchor");
    assert_eq!(read(&store, "node-a").await, Some(anchor(7, 'a')));
    assert_eq!(read(&store, "node-b").await, None, "another node has none");
    store
        .set_audit_anchor("node-b", &anchor(3, 'b'))
        .await
        .expect("set_audit_anchor");
    store
        .set_audit_anchor("node-a", &anchor(u64::MAX >> 1, 'c'))
        .await
        .expect("set_audit_anchor again");
    assert_eq!(
        read(&store, "node-a").await,
        Some(anchor(u64::MAX >> 1, 'c')),
        "the second anchor replaces the first"
    );
    assert_eq!(read(&store, "node-b").await, Some(anchor(3, 'b')));
    store
        .set_audit_anchor("node-a", &anchor(1, 'd'))
        .await
        .expect("set_audit_anchor lower");
    assert_eq!(read(&store, "node-a").await, Some(anchor(1, 'd')));
    assert_eq!(
        read(&store, "Node-A").await,
        None,
        "nodes are case-sensitive"
    );
}

/// An anchor is not data: the store stays empty, and the names written once stay free.
pub async fn audit_anchor_leaves_other_data_alone<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    store
        .set_audit_anchor("root-check", &anchor(9, 'e'))
        .await
        .expect("set_audit_anchor");
    assert!(
        store.is_empty().await.expect("is_empty"),
        "an anchor does not make the store hold data"
    );
    assert_eq!(store.get_meta("root-check").await.expect("get_meta"), None);
    let written = store
        .put_meta_if_absent("root-check", b"check")
        .await
        .expect("put_meta_if_absent");
    assert!(
        written,
        "a node named like a metadata value takes nothing from it"
    );
    assert_eq!(read(&store, "root-check").await, Some(anchor(9, 'e')));
}

/// Anchors survive closing and reopening the store.
pub async fn reopen_keeps_audit_anchors<F: StoreFactory>(factory: F) {
    {
        let store = factory.open().await;
        store
            .set_audit_anchor("node-a", &anchor(5, 'f'))
            .await
            .expect("set_audit_anchor");
        store
            .set_audit_anchor("node-a", &anchor(6, '0'))
            .await
            .expect("set_audit_anchor again");
    }
    let store = factory.open().await;
    assert_eq!(read(&store, "node-a").await, Some(anchor(6, '0')));
}
