//! Checks for `list_versions`, `list_keys` and `due_keys`.
//!
//! Owns the orderings of the lists (creation time as a number, then id in byte order) and
//! exactly which keys are due at a given time, at the boundaries. Does not cover aliases
//! (see `aliases`) or tags (see `tags`).

use openkms_core::{KeyRecord, KeyState};

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::{create, read_key, versions};
use crate::fixtures::{NewKey, extra_version, full_key, key_id, minimal_key, rotated};

/// Versions list oldest first: by creation time as a number (9 before 10 before 100), then
/// by version id; only the key's own versions; none for an unknown key.
pub async fn list_versions_oldest_first<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let first = minimal_key(1);
    create(&store, &first).await;
    create(&store, &full_key(2)).await;
    let mut key = first.key.clone();
    let added = [
        extra_version(1, 5, 10),
        extra_version(1, 2, 10),
        extra_version(1, 9, 9),
        extra_version(1, 3, 100),
        extra_version(1, 4, -3),
    ];
    for version in &added {
        key = rotated(&key, version);
        store.add_version(&key, version).await.expect("add_version");
    }
    let mut expected = vec![first.version];
    expected.extend(added);
    expected.sort_by(|a, b| (a.created_at, &a.version_id).cmp(&(b.created_at, &b.version_id)));
    assert_eq!(
        versions(&store, &key_id(1)).await,
        expected,
        "list_versions orders by created_at, then version id"
    );
    let other = versions(&store, &key_id(2)).await;
    assert_eq!(
        other,
        vec![full_key(2).version],
        "only the key's own versions"
    );
    assert!(versions(&store, &key_id(3)).await.is_empty(), "unknown key");
}

/// A minimal key numbered `n`, created at `created_at`.
fn key_created_at(n: u32, created_at: i64) -> NewKey {
    let mut new = minimal_key(n);
    new.key.created_at = created_at;
    new
}

/// Keys list oldest first: by creation time as a number, then by key id; empty when none.
pub async fn list_keys_oldest_first<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(store.list_keys().await.expect("list_keys").is_empty());
    let made = [
        key_created_at(0x10, 100),
        key_created_at(0x0a, 100),
        key_created_at(7, 9),
        key_created_at(3, 100),
        key_created_at(1, -5),
        key_created_at(2, i64::MAX),
        full_key(4),
    ];
    for new in &made {
        create(&store, new).await;
    }
    let mut expected: Vec<KeyRecord> = made.into_iter().map(|n| n.key).collect();
    expected.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
    let listed = store.list_keys().await.expect("list_keys");
    assert_eq!(
        listed, expected,
        "list_keys orders by created_at, then key id"
    );
}

/// The time `due_keys_at_boundaries` asks about.
const NOW: i64 = 1_750_000_000;

/// Key `n` in `state` with the given deletion and rotation times.
fn timed_key(n: u32, state: KeyState, delete_at: Option<i64>, rotate_at: Option<i64>) -> NewKey {
    let mut new = minimal_key(n);
    new.key.state = state;
    new.key.delete_at = delete_at;
    new.key.rotation_interval = rotate_at.map(|_| 86_400);
    new.key.next_rotation_at = rotate_at;
    new
}

/// Keys 1..=13 covering each side of each rule of `due_keys` around [`NOW`].
fn due_fixtures() -> Vec<NewKey> {
    use KeyState::{Disabled, Enabled, PendingDeletion};
    vec![
        timed_key(1, PendingDeletion, Some(NOW), None),
        timed_key(2, PendingDeletion, Some(NOW - 1), None),
        timed_key(3, PendingDeletion, Some(NOW + 1), None),
        timed_key(4, Enabled, None, Some(NOW)),
        timed_key(5, Enabled, None, Some(NOW - 1)),
        timed_key(6, Enabled, None, Some(NOW + 1)),
        timed_key(7, Disabled, None, Some(NOW - 1)),
        timed_key(8, Enabled, None, None),
        timed_key(9, PendingDeletion, Some(NOW + 1), Some(NOW - 1)),
        timed_key(10, Enabled, Some(NOW - 1), Some(NOW + 1)),
        timed_key(11, Disabled, Some(NOW - 1), None),
        timed_key(12, PendingDeletion, None, None),
        timed_key(13, PendingDeletion, Some(NOW - 1), Some(NOW - 1)),
    ]
}

/// The numbers of the keys `due_keys(now)` returns, sorted; each must be a whole stored key
/// and appear once.
async fn due_numbers(store: &impl Store, now: i64) -> Vec<u32> {
    let due = store.due_keys(now).await.expect("due_keys");
    let mut numbers = Vec::with_capacity(due.len());
    for key in due {
        let stored = read_key(store, &key.key_id).await;
        assert_eq!(
            stored.as_ref(),
            Some(&key),
            "due_keys returns whole records"
        );
        let n = (1..=13).find(|&n| key_id(n) == key.key_id);
        numbers.push(n.expect("due_keys returns only stored keys"));
    }
    numbers.sort_unstable();
    let count = numbers.len();
    numbers.dedup();
    assert_eq!(numbers.len(), count, "due_keys returns each key once");
    numbers
}

/// `due_keys(now)`: PendingDeletion keys with `delete_at <= now` and Enabled keys with
/// `next_rotation_at <= now`, exactly (`== now` is due); no other state, no other date.
pub async fn due_keys_at_boundaries<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(store.due_keys(NOW).await.expect("due_keys").is_empty());
    for new in due_fixtures() {
        create(&store, &new).await;
    }
    assert_eq!(
        due_numbers(&store, NOW).await,
        [1, 2, 4, 5, 13],
        "due at now"
    );
    assert_eq!(due_numbers(&store, NOW - 1).await, [2, 5, 13], "due before");
    let after = due_numbers(&store, NOW + 1).await;
    assert_eq!(after, [1, 2, 3, 4, 5, 6, 9, 10, 13], "due after");
    assert!(
        due_numbers(&store, i64::MIN).await.is_empty(),
        "none at MIN"
    );
    let mut disabled = read_key(&store, &key_id(4)).await.expect("key 4");
    disabled.state = KeyState::Disabled;
    disabled.revision += 1;
    store.update_key(&disabled).await.expect("update_key");
    let mut pending = read_key(&store, &key_id(3)).await.expect("key 3");
    pending.delete_at = Some(NOW);
    pending.revision += 1;
    store.update_key(&pending).await.expect("update_key");
    let updated = due_numbers(&store, NOW).await;
    assert_eq!(updated, [1, 2, 3, 5, 13], "due_keys sees updates");
}
