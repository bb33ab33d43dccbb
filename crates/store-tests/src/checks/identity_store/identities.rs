//! Checks for RAM identities: users, the AccessKeys a user owns, custom policies and policy
//! attachments.
//!
//! Owns their exact round trips, the uniqueness of names, which missing record each refused
//! change reports, the rules of the conditional deletes (a user that owns an AccessKey or
//! holds a policy, a custom policy still attached), the orderings of their lists, and their
//! survival across a reopen. Does not cover `create_access_key`, `create_user_access_key`
//! and `get_access_key` (see `access_keys`) or many writers racing to attach, create and
//! delete (see `concurrency`).

use openkms_core::{AccessKeyRecord, AttachmentRecord, PolicyRecord, PolicyType, UserRecord};

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::{
    assert_already_exists, assert_conflict, assert_not_found, assert_reference_not_found,
};
use crate::fixtures::{
    SYSTEM_POLICY, access_key, attachment, named_policy, named_user, owned_access_key, policy,
    policy_name, user, user_name,
};

use PolicyType::{Custom, System};

/// Creates `users` and `policies` (by fixture number), panicking if the store refuses.
async fn populate(store: &impl Store, users: &[u32], policies: &[u32]) {
    for &n in users {
        store.create_user(&user(n)).await.expect("create_user");
    }
    for &n in policies {
        store
            .create_policy(&policy(n))
            .await
            .expect("create_policy");
    }
}

/// Attaches every one of `attachments`, panicking if the store refuses.
async fn attach_all(store: &impl Store, attachments: &[AttachmentRecord]) {
    for attachment in attachments {
        store
            .attach_policy(attachment)
            .await
            .expect("attach_policy of an existing user and policy");
    }
}

/// The policies `user` holds, panicking if the read fails.
async fn held(store: &impl Store, user: &str) -> Vec<AttachmentRecord> {
    store
        .list_user_attachments(user)
        .await
        .expect("list_user_attachments")
}

/// The users holding a policy, panicking if the read fails.
async fn holders(store: &impl Store, kind: PolicyType, name: &str) -> Vec<AttachmentRecord> {
    store
        .list_policy_attachments(kind, name)
        .await
        .expect("list_policy_attachments")
}

/// The AccessKeys `user` owns, panicking if the read fails.
async fn owned(store: &impl Store, user: &str) -> Vec<AccessKeyRecord> {
    store
        .list_access_keys(user)
        .await
        .expect("list_access_keys")
}

/// Users read back exactly (every field, set or empty); a taken name is `AlreadyExists` and
/// keeps the first user; an unknown name is `None`.
pub async fn user_round_trip_and_duplicate<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert_eq!(store.get_user("user-1").await.expect("get_user"), None);
    let full = user(1);
    let empty = named_user("plain");
    for record in [&full, &empty] {
        store.create_user(record).await.expect("create_user");
        let read = store.get_user(&record.user_name).await.expect("get_user");
        assert_eq!(read.as_ref(), Some(record), "a user reads back exactly");
    }
    let clash = UserRecord {
        user_name: full.user_name.clone(),
        ..user(2)
    };
    assert_already_exists(store.create_user(&clash).await, "create_user, taken name");
    assert_already_exists(store.create_user(&full).await, "create_user repeated");
    let read = store.get_user(&full.user_name).await.expect("get_user");
    assert_eq!(read, Some(full), "the first user is kept");
    assert_eq!(store.get_user("user-2").await.expect("get_user"), None);
}

/// Names whose byte order differs from a locale's: `-` < `.` < digits < `@` < upper case <
/// `_` < lower case, and "user-10" before "user-9".
pub(crate) const TRICKY_NAMES: [&str; 11] = [
    "b", "B", "a.b", "a-b", "a_b", "a@b", "a0", "Zed", "_x", "user-9", "user-10",
];

/// `list_users` is empty at first, then every user, whole, sorted by name in byte order.
pub async fn list_users_sorted_by_name<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(store.list_users().await.expect("list_users").is_empty());
    let mut expected: Vec<_> = TRICKY_NAMES.iter().map(|n| named_user(n)).collect();
    expected.push(user(3));
    for record in &expected {
        store.create_user(record).await.expect("create_user");
    }
    expected.sort_by(|a, b| a.user_name.cmp(&b.user_name));
    let listed = store.list_users().await.expect("list_users");
    assert_eq!(listed, expected, "list_users sorts by name in byte order");
}

/// `delete_user`: `NotFound` for an unknown user, `Conflict` while it owns an AccessKey or
/// holds a policy (and the user stays), `Ok` once both are gone; the name is free again.
pub async fn delete_user_refused_while_it_owns_or_holds<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert_not_found(store.delete_user("user-1").await, "delete_user, unknown");
    populate(&store, &[1, 2], &[]).await;
    let other = owned_access_key(20, &user_name(2), 5);
    create_access_keys(&store, &[&other]).await;
    refuse_while_user_1_owns_a_key(&store).await;
    attach_all(&store, &[attachment("user-1", System, SYSTEM_POLICY, 7)]).await;
    let result = store.delete_user("user-1").await;
    assert_conflict(result, "delete_user while it holds a policy");
    let detached = store.detach_policy("user-1", System, SYSTEM_POLICY).await;
    assert!(detached.expect("detach_policy"));
    let deleted = store.delete_user("user-1").await;
    deleted.expect("delete_user once it owns and holds nothing");
    assert_eq!(store.get_user("user-1").await.expect("get_user"), None);
    let users = store.list_users().await.expect("list_users");
    assert_eq!(users, vec![user(2)], "only the deleted user is gone");
    assert_not_found(store.delete_user("user-1").await, "delete_user, twice");
    assert_eq!(
        owned(&store, "user-2").await,
        vec![other],
        "others keep keys"
    );
    let again = store.create_user(&user(1)).await;
    again.expect("the name is free again");
}

/// `delete_user("user-1")` is `Conflict` while it owns an AccessKey, and keeps the user;
/// the key is deleted afterwards.
async fn refuse_while_user_1_owns_a_key(store: &impl Store) {
    let key = owned_access_key(10, &user_name(1), 5);
    create_access_keys(store, &[&key]).await;
    let result = store.delete_user("user-1").await;
    assert_conflict(result, "delete_user while it owns an AccessKey");
    assert!(store.get_user("user-1").await.expect("get_user").is_some());
    let deleted = store.delete_access_key(&key.access_key_id).await;
    assert!(deleted.expect("delete_access_key"));
}

/// Creates every one of `keys`, panicking if the store refuses.
async fn create_access_keys(store: &impl Store, keys: &[&AccessKeyRecord]) {
    for key in keys {
        store
            .create_access_key(key)
            .await
            .expect("create_access_key of a new id");
    }
}

/// `list_access_keys` returns only the user's keys, whole, oldest first (by creation time as
/// a number, then AccessKeyId); none for a user without keys.
pub async fn list_access_keys_of_one_user_oldest_first<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(owned(&store, "alice").await.is_empty());
    let mut alice = vec![
        owned_access_key(5, "alice", 100),
        owned_access_key(3, "alice", 100),
        owned_access_key(9, "alice", 9),
        owned_access_key(1, "alice", -5),
        owned_access_key(2, "alice", i64::MAX),
    ];
    alice[1].active = false;
    let bob = owned_access_key(4, "bob", 50);
    let root = access_key(0, true);
    let all: Vec<_> = alice.iter().chain([&bob, &root]).collect();
    create_access_keys(&store, &all).await;
    alice.sort_by(|a, b| (a.created_at, &a.access_key_id).cmp(&(b.created_at, &b.access_key_id)));
    assert_eq!(
        owned(&store, "alice").await,
        alice,
        "by created_at, then id"
    );
    assert_eq!(owned(&store, "bob").await, vec![bob], "only bob's key");
    assert_eq!(owned(&store, "root").await, vec![root], "only root's key");
    assert!(owned(&store, "Alice").await.is_empty(), "names are exact");
}

/// `set_access_key_active` changes only the flag, either way, and setting the flag a key
/// already has is not an error; an unknown id is `NotFound`.
pub async fn set_access_key_active_round_trip<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let key = access_key(1, true);
    let other = access_key(2, true);
    create_access_keys(&store, &[&key, &other]).await;
    let id = &key.access_key_id;
    let inactive = AccessKeyRecord {
        active: false,
        ..key.clone()
    };
    for (active, expected) in [(false, &inactive), (false, &inactive), (true, &key)] {
        let set = store.set_access_key_active(id, active).await;
        set.expect("set_access_key_active of an existing key");
        let read = store.get_access_key(id).await.expect("get_access_key");
        assert_eq!(
            read.as_ref(),
            Some(expected),
            "set_access_key_active({active})"
        );
    }
    let result = store.set_access_key_active("LTAI-missing", false).await;
    assert_not_found(result, "set_access_key_active of an unknown key");
    let read = store.get_access_key(&other.access_key_id).await;
    assert_eq!(
        read.expect("get_access_key"),
        Some(other),
        "others unchanged"
    );
}

/// `delete_access_key` reports `true` for a stored key and `false` after (or for an unknown
/// id); the key is gone from reads and lists, other keys stay.
pub async fn delete_access_key_reports_existence<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let key = access_key(1, true);
    let other = access_key(2, false);
    create_access_keys(&store, &[&key, &other]).await;
    let id = &key.access_key_id;
    assert!(
        store.delete_access_key(id).await.expect("delete"),
        "existed"
    );
    assert!(!store.delete_access_key(id).await.expect("delete"), "gone");
    assert!(
        !store
            .delete_access_key("LTAI-missing")
            .await
            .expect("delete")
    );
    assert_eq!(
        store.get_access_key(id).await.expect("get_access_key"),
        None
    );
    assert!(owned(&store, &key.user).await.is_empty(), "not listed");
    let read = store.get_access_key(&other.access_key_id).await;
    assert_eq!(read.expect("get_access_key"), Some(other), "others stay");
    store
        .create_access_key(&key)
        .await
        .expect("the id is free again");
}

/// Custom policies read back exactly; a taken name is `AlreadyExists` and keeps the first
/// policy; an unknown name is `None`.
pub async fn policy_round_trip_and_duplicate<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert_eq!(
        store.get_policy("Policy-1").await.expect("get_policy"),
        None
    );
    let full = policy(1);
    let plain = named_policy("plain");
    for record in [&full, &plain] {
        store.create_policy(record).await.expect("create_policy");
        let read = store.get_policy(&record.policy_name).await;
        assert_eq!(read.expect("get_policy").as_ref(), Some(record), "exact");
    }
    let clash = PolicyRecord {
        policy_name: full.policy_name.clone(),
        ..policy(2)
    };
    assert_already_exists(store.create_policy(&clash).await, "create_policy, taken");
    let read = store.get_policy(&full.policy_name).await;
    assert_eq!(
        read.expect("get_policy"),
        Some(full),
        "the first policy is kept"
    );
}

/// `list_policies` is empty at first, then every policy, whole, sorted by name in byte order.
pub async fn list_policies_sorted_by_name<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(
        store
            .list_policies()
            .await
            .expect("list_policies")
            .is_empty()
    );
    let names = [
        "b",
        "B",
        "a-b",
        "a0",
        "A1",
        "Zed",
        "10",
        "9",
        "Policy-10",
        "Policy-9",
    ];
    let mut expected: Vec<_> = names.iter().map(|n| named_policy(n)).collect();
    expected.push(policy(3));
    for record in &expected {
        store.create_policy(record).await.expect("create_policy");
    }
    expected.sort_by(|a, b| a.policy_name.cmp(&b.policy_name));
    let listed = store.list_policies().await.expect("list_policies");
    assert_eq!(
        listed, expected,
        "list_policies sorts by name in byte order"
    );
}

/// `delete_policy`: `NotFound` for an unknown policy, `Conflict` while any user holds it, `Ok`
/// once nobody does. A system policy of the same name does not count.
pub async fn delete_policy_refused_while_attached<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let name = policy_name(1);
    assert_not_found(store.delete_policy(&name).await, "delete_policy, unknown");
    populate(&store, &[1, 2], &[1]).await;
    let same_name_system = attachment("user-1", System, &name, 1);
    let held_by = |n: u32| attachment(&user_name(n), Custom, &name, 2);
    attach_all(&store, &[same_name_system.clone(), held_by(1), held_by(2)]).await;
    assert_conflict(store.delete_policy(&name).await, "attached to two");
    assert!(
        store
            .detach_policy("user-1", Custom, &name)
            .await
            .expect("detach")
    );
    assert_conflict(store.delete_policy(&name).await, "attached to one");
    let read = store.get_policy(&name).await.expect("get_policy");
    assert_eq!(read, Some(policy(1)), "a refused delete keeps the policy");
    assert!(
        store
            .detach_policy("user-2", Custom, &name)
            .await
            .expect("detach")
    );
    store
        .delete_policy(&name)
        .await
        .expect("delete_policy once detached");
    assert_eq!(store.get_policy(&name).await.expect("get_policy"), None);
    assert_not_found(store.delete_policy(&name).await, "delete_policy, twice");
    let left = held(&store, "user-1").await;
    assert_eq!(left, vec![same_name_system], "the system attachment stays");
}

/// Attachments read back exactly; the same name as System and as Custom are two policies; a
/// repeated attachment (even at another time) is `AlreadyExists` and keeps the first.
pub async fn attach_policy_round_trip_and_duplicate<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    populate(&store, &[1], &[1]).await;
    let name = policy_name(1);
    let expected = vec![
        attachment("user-1", Custom, &name, 100),
        attachment("user-1", System, SYSTEM_POLICY, 101),
        attachment("user-1", System, &name, i64::MAX),
    ];
    attach_all(&store, &expected).await;
    assert_eq!(
        held(&store, "user-1").await,
        expected,
        "every field reads back"
    );
    let again = attachment("user-1", Custom, &name, 999);
    assert_already_exists(store.attach_policy(&again).await, "attach, repeated");
    let again = attachment("user-1", System, SYSTEM_POLICY, 101);
    assert_already_exists(store.attach_policy(&again).await, "attach, same record");
    assert_eq!(held(&store, "user-1").await, expected, "the first is kept");
}

/// `attach_policy` is `ReferenceNotFound` for an unknown user (whatever the policy) and for
/// an unknown custom policy; a system policy of any name needs no record. Nothing refused is
/// stored.
pub async fn attach_policy_missing_references<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    populate(&store, &[1], &[1]).await;
    let refused = [
        attachment("nobody", Custom, &policy_name(1), 1),
        attachment("nobody", System, SYSTEM_POLICY, 1),
        attachment("user-1", Custom, "Missing", 1),
        attachment("user-1", Custom, SYSTEM_POLICY, 1),
    ];
    for record in &refused {
        let result = store.attach_policy(record).await;
        assert_reference_not_found(result, &format!("attach_policy {record:?}"));
    }
    let system = attachment("user-1", System, "Any-Name_at.all", 2);
    store
        .attach_policy(&system)
        .await
        .expect("any system policy name");
    assert_eq!(held(&store, "user-1").await, vec![system]);
    assert!(held(&store, "nobody").await.is_empty());
    assert!(holders(&store, Custom, "Missing").await.is_empty());
    assert!(holders(&store, Custom, &policy_name(1)).await.is_empty());
}

/// `detach_policy` reports `true` for a held policy and `false` after, for the other policy
/// type of the same name, and for an unknown user; only that one attachment goes.
pub async fn detach_policy_reports_existence<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    populate(&store, &[1, 2], &[1]).await;
    let name = policy_name(1);
    let second = attachment("user-2", Custom, &name, 2);
    attach_all(
        &store,
        &[attachment("user-1", Custom, &name, 1), second.clone()],
    )
    .await;
    let detach = |user: &'static str, kind| store.detach_policy(user, kind, &name);
    assert!(
        !detach("user-1", System).await.expect("detach"),
        "other type"
    );
    assert!(detach("user-1", Custom).await.expect("detach"), "was held");
    assert!(
        !detach("user-1", Custom).await.expect("detach"),
        "already gone"
    );
    assert!(
        !detach("nobody", Custom).await.expect("detach"),
        "unknown user"
    );
    assert!(held(&store, "user-1").await.is_empty());
    assert_eq!(holders(&store, Custom, &name).await, vec![second]);
}

/// `list_user_attachments`: only that user's, oldest first (time as a number), then by type
/// name and policy name in byte order (so Custom before System).
pub async fn list_user_attachments_ordering<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    populate(&store, &[1, 2], &[]).await;
    for name in ["A", "B", "a"] {
        store
            .create_policy(&named_policy(name))
            .await
            .expect("create_policy");
    }
    let at = |kind, name: &str, time| attachment("user-1", kind, name, time);
    let expected = vec![
        at(System, "A", -1),
        at(System, SYSTEM_POLICY, 9),
        at(Custom, "A", 100),
        at(Custom, "B", 100),
        at(Custom, "a", 100),
        at(System, "B", 100),
    ];
    let order = [5, 3, 1, 4, 0, 2];
    let shuffled: Vec<_> = order.iter().map(|&i| expected[i].clone()).collect();
    attach_all(&store, &shuffled).await;
    attach_all(&store, &[attachment("user-2", Custom, "A", 0)]).await;
    let listed = held(&store, "user-1").await;
    assert_eq!(listed, expected, "by attached_at, then type, then name");
}

/// `list_policy_attachments`: only that policy (of that type), oldest first, then by user
/// name in byte order.
pub async fn list_policy_attachments_ordering<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    for name in ["b", "B", "a", "a0"] {
        store
            .create_user(&named_user(name))
            .await
            .expect("create_user");
    }
    let name = policy_name(1);
    store
        .create_policy(&policy(1))
        .await
        .expect("create_policy");
    let by = |user: &str, time| attachment(user, Custom, &name, time);
    let expected = vec![by("a", 50), by("B", 100), by("a0", 100), by("b", 100)];
    let order = [3, 1, 0, 2];
    let shuffled: Vec<_> = order.iter().map(|&i| expected[i].clone()).collect();
    attach_all(&store, &shuffled).await;
    let system = attachment("a", System, &name, 1);
    attach_all(&store, std::slice::from_ref(&system)).await;
    let listed = holders(&store, Custom, &name).await;
    assert_eq!(listed, expected, "by attached_at, then user name");
    assert_eq!(holders(&store, System, &name).await, vec![system]);
    assert!(holders(&store, System, SYSTEM_POLICY).await.is_empty());
}

/// The attachments [`write_identities`] leaves.
fn kept_attachments() -> Vec<AttachmentRecord> {
    vec![
        attachment("user-1", Custom, &policy_name(1), 10),
        attachment("user-1", System, SYSTEM_POLICY, 11),
    ]
}

/// Writes one of every identity change through `store`.
async fn write_identities(store: &impl Store) {
    populate(store, &[1, 2, 3], &[1, 2, 3]).await;
    for (n, at) in [(1, 1), (2, 2), (3, 3)] {
        let key = owned_access_key(n, &user_name(1), at);
        store
            .create_access_key(&key)
            .await
            .expect("create_access_key");
    }
    let first = owned_access_key(1, &user_name(1), 1).access_key_id;
    store
        .set_access_key_active(&first, false)
        .await
        .expect("set");
    let third = owned_access_key(3, &user_name(1), 3).access_key_id;
    assert!(store.delete_access_key(&third).await.expect("delete"));
    let dropped = attachment("user-2", Custom, &policy_name(2), 12);
    attach_all(store, &kept_attachments()).await;
    attach_all(store, &[dropped]).await;
    let detached = store.detach_policy("user-2", Custom, &policy_name(2)).await;
    assert!(detached.expect("detach_policy"));
    store.delete_user("user-3").await.expect("delete_user");
    store
        .delete_policy(&policy_name(3))
        .await
        .expect("delete_policy");
}

/// Asserts that everything [`write_identities`] left reads back exactly.
async fn assert_identities(store: &impl Store) {
    let users = store.list_users().await.expect("list_users");
    assert_eq!(users, vec![user(1), user(2)], "users survive a reopen");
    let policies = store.list_policies().await.expect("list_policies");
    assert_eq!(policies, vec![policy(1), policy(2)], "policies survive");
    let mut first = owned_access_key(1, &user_name(1), 1);
    first.active = false;
    let second = owned_access_key(2, &user_name(1), 2);
    let keys = owned(store, "user-1").await;
    assert_eq!(keys, vec![first, second], "AccessKey changes survive");
    assert_eq!(
        held(store, "user-1").await,
        kept_attachments(),
        "attachments"
    );
    assert!(
        held(store, "user-2").await.is_empty(),
        "detachments survive"
    );
}

/// Close and reopen after every identity change: all of them are there, and the uniqueness
/// and dependency rules still hold against the records written before the reopen.
pub async fn reopen_keeps_identities<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    write_identities(&store).await;
    drop(store);
    let store = factory.open().await;
    assert_identities(&store).await;
    assert_already_exists(store.create_user(&user(1)).await, "user after reopen");
    assert_already_exists(store.create_policy(&policy(1)).await, "policy after reopen");
    let again = store.attach_policy(&kept_attachments()[0]).await;
    assert_already_exists(again, "attachment after reopen");
    assert_conflict(store.delete_user("user-1").await, "user after reopen");
    let policy_one = policy_name(1);
    assert_conflict(
        store.delete_policy(&policy_one).await,
        "policy after reopen",
    );
    assert_not_found(store.delete_user("user-3").await, "deleted user");
    drop(store);
    let store = factory.open().await;
    assert_identities(&store).await;
}
