//! Checks that hold under many concurrent writers.
//!
//! Owns the rules a batching or pooled backend is most likely to break: one winner per unique
//! name or revision, no write lost or merged with another, and one write's failure not
//! spilling onto the writes that ran beside it; no key tagged, and no user given AccessKeys,
//! past its limit by writers that each stayed within it; and no attachment or AccessKey of a
//! user or custom policy that a racing delete removed. Does not measure speed.

use super::prelude::*;
use std::future::Future;
use std::sync::Arc;

use openkms_core::{AccessKeyRecord, PolicyType, StoreError};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::{
    assert_already_exists, assert_conflict, assert_key_stored, assert_reference_not_found, create,
    read_key, versions,
};
use crate::StoreFactory;
use crate::fixtures::{
    MAX_ACCESS_KEYS, MAX_TAGS, alias, attachment, disabled_key, extra_version, full_key, key_id,
    minimal_key, named_user, next_revision, owned_access_key, policy, policy_name, rotated, tag,
    user, user_name,
};

/// Runs `work(store, i)` for `i` in `0..count` as tasks released together; results by `i`.
async fn race<S, W, Fut, T>(store: &Arc<S>, count: u32, work: W) -> Vec<(u32, T)>
where
    S: Store,
    W: Fn(Arc<S>, u32) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(count as usize));
    let mut tasks = JoinSet::new();
    for i in 0..count {
        let work = work(Arc::clone(store), i);
        let barrier = Arc::clone(&barrier);
        tasks.spawn(async move {
            barrier.wait().await;
            (i, work.await)
        });
    }
    let mut results = Vec::with_capacity(count as usize);
    while let Some(joined) = tasks.join_next().await {
        results.push(joined.expect("a racing task panicked"));
    }
    results.sort_by_key(|(i, _)| *i);
    results
}

/// 64 concurrent `create_alias` of one name: exactly one `Ok`, 63 `AlreadyExists`.
pub async fn concurrent_alias_has_one_winner<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    for n in 0..4 {
        create(&*store, &minimal_key(n)).await;
    }
    let results = race(&store, 64, |store, i| async move {
        store
            .create_alias(&alias("alias/contended", &key_id(i % 4)))
            .await
    })
    .await;
    let mut winners = Vec::new();
    for (i, result) in results {
        match result {
            Ok(()) => winners.push(i),
            Err(StoreError::AlreadyExists) => {}
            Err(other) => panic!("racing create_alias {i}: unexpected {other:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one racing create_alias wins: {winners:?}"
    );
    let stored = store.get_alias("alias/contended").await.expect("get_alias");
    let winner_key = key_id(winners[0] % 4);
    assert_eq!(
        stored.map(|a| a.key_id),
        Some(winner_key),
        "the alias is the winner's"
    );
}

/// 200 concurrent `create_key` of distinct keys all succeed and all read back exactly.
pub async fn concurrent_create_key_all_succeed<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    let results = race(&store, 200, |store, i| async move {
        let new = disabled_key(i);
        store.create_key(&new.key, &new.version, &new.tags).await
    })
    .await;
    for (i, result) in results {
        assert!(result.is_ok(), "racing create_key {i}: {result:?}");
    }
    let reads = race(&store, 200, |store, i| async move {
        assert_key_stored(&*store, &disabled_key(i)).await;
    })
    .await;
    assert_eq!(reads.len(), 200, "every key was read back");
}

/// One write of four kinds, chosen by `i % 4`; kinds 1 and 2 must fail.
async fn mixed_write(store: &impl Store, i: u32) -> Result<(), StoreError> {
    match i % 4 {
        0 => {
            let new = disabled_key(i + 1);
            store.create_key(&new.key, &new.version, &new.tags).await
        }
        1 => store.create_alias(&alias("alias/taken", &key_id(0))).await,
        2 => {
            let missing = key_id(1_000_000 + i);
            store
                .create_alias(&alias(&format!("alias/dangling-{i}"), &missing))
                .await
        }
        _ => {
            store
                .create_alias(&alias(&format!("alias/ok-{i}"), &key_id(0)))
                .await
        }
    }
}

/// Failing writes racing with good ones fail alone: every good write is kept, no bad one is.
pub async fn concurrent_failures_are_isolated<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    create(&*store, &minimal_key(0)).await;
    store
        .create_alias(&alias("alias/taken", &key_id(0)))
        .await
        .expect("create_alias");
    let results = race(&store, 160, |store, i| async move {
        mixed_write(&*store, i).await
    })
    .await;
    for (i, result) in results {
        let what = format!("racing write {i} of kind {}", i % 4);
        match i % 4 {
            1 => assert_already_exists(result, &what),
            2 => assert_reference_not_found(result, &what),
            _ => assert!(result.is_ok(), "{what}: {result:?}"),
        }
    }
    for i in 0..160 {
        match i % 4 {
            0 => assert_key_stored(&*store, &disabled_key(i + 1)).await,
            1 => {}
            2 => {
                let kept = store.get_alias(&format!("alias/dangling-{i}")).await;
                assert_eq!(
                    kept.expect("get_alias"),
                    None,
                    "refused alias {i} was not kept"
                );
            }
            _ => {
                let kept = store
                    .get_alias(&format!("alias/ok-{i}"))
                    .await
                    .expect("get_alias");
                assert_eq!(
                    kept.map(|a| a.key_id),
                    Some(key_id(0)),
                    "alias {i} was kept"
                );
            }
        }
    }
}

/// The one `Ok` among `results`; every other result must be `Conflict`.
fn one_winner(results: Vec<(u32, Result<(), StoreError>)>, what: &str) -> u32 {
    let mut winners = Vec::new();
    for (i, result) in results {
        match result {
            Ok(()) => winners.push(i),
            other => assert_conflict(other, &format!("{what} {i}")),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one {what} wins: {winners:?}");
    winners[0]
}

/// 32 concurrent `update_key` made from the same read: one `Ok`, 31 `Conflict`, and the
/// stored key is the winner's.
pub async fn concurrent_update_key_has_one_winner<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    create(&*store, &full_key(1)).await;
    let read = read_key(&*store, &key_id(1)).await.expect("the key exists");
    let change = |i: u32| {
        let mut key = next_revision(&read);
        key.description = format!("writer {i}");
        key
    };
    let results = race(&store, 32, |store, i| {
        let key = change(i);
        async move { store.update_key(&key).await }
    })
    .await;
    let winner = one_winner(results, "racing update_key");
    let stored = read_key(&*store, &key_id(1)).await;
    assert_eq!(stored, Some(change(winner)), "the key is the winner's");
}

/// 32 concurrent `add_version` made from the same read: one `Ok`, 31 `Conflict`, and only
/// the winner's version exists beside the first.
pub async fn concurrent_add_version_has_one_winner<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    let first = minimal_key(1);
    create(&*store, &first).await;
    let results = race(&store, 32, |store, i| {
        let version = extra_version(1, i, 1_000 + i64::from(i));
        let key = rotated(&first.key, &version);
        async move { store.add_version(&key, &version).await }
    })
    .await;
    let winner = one_winner(results, "racing add_version");
    let won = extra_version(1, winner, 1_000 + i64::from(winner));
    let stored = read_key(&*store, &key_id(1)).await;
    assert_eq!(
        stored,
        Some(rotated(&first.key, &won)),
        "the key is the winner's"
    );
    let listed = versions(&*store, &key_id(1)).await;
    assert_eq!(
        listed,
        vec![first.version, won],
        "no loser's version was kept"
    );
}

/// Read, change, `update_key`, and on `Conflict` read again: appends `[i]` to the
/// description.
async fn append_with_retry(store: &impl Store, i: u32) {
    for _ in 0..1_000 {
        let read = read_key(store, &key_id(1)).await.expect("the key exists");
        let mut key = next_revision(&read);
        key.description.push_str(&format!("[{i}]"));
        match store.update_key(&key).await {
            Ok(()) => return,
            Err(StoreError::Conflict) => continue,
            Err(other) => panic!("read-modify-write {i}: unexpected {other:?}"),
        }
    }
    panic!("read-modify-write {i} never won over 1000 attempts");
}

/// 16 concurrent read-modify-write loops retrying on `Conflict`: no change is lost, and the
/// revision counts every one.
pub async fn concurrent_retried_updates_lose_nothing<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    create(&*store, &minimal_key(1)).await;
    race(&store, 16, |store, i| async move {
        append_with_retry(&*store, i).await;
    })
    .await;
    let key = read_key(&*store, &key_id(1)).await.expect("the key exists");
    assert_eq!(key.revision, 17, "16 updates over revision 1");
    for i in 0..16 {
        let mark = format!("[{i}]");
        assert_eq!(
            key.description.matches(&mark).count(),
            1,
            "{mark} kept once"
        );
    }
}

/// How many of `results` are `Ok(true)`; every result must be `Ok`.
fn count_recorded(results: Vec<(u32, Result<bool, StoreError>)>, what: &str) -> usize {
    let mut recorded = 0;
    for (i, result) in results {
        match result {
            Ok(true) => recorded += 1,
            Ok(false) => {}
            Err(other) => panic!("{what} {i}: unexpected {other:?}"),
        }
    }
    recorded
}

/// 64 concurrent `use_nonce` of one new nonce: exactly one `true`; then 64 racing to replace
/// an expired record of another nonce: again exactly one `true`.
pub async fn concurrent_use_nonce_has_one_winner<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    let results = race(&store, 64, |store, _| async move {
        store.use_nonce("ak-1", "contended", 2_000, 1_000).await
    })
    .await;
    let recorded = count_recorded(results, "racing use_nonce");
    assert_eq!(
        recorded, 1,
        "exactly one racing use_nonce records the nonce"
    );
    assert!(
        store
            .use_nonce("ak-1", "expired", 999, 500)
            .await
            .expect("use_nonce"),
        "a new nonce is recorded"
    );
    let results = race(&store, 64, |store, _| async move {
        store.use_nonce("ak-1", "expired", 2_000, 1_000).await
    })
    .await;
    let recorded = count_recorded(results, "racing reuse of an expired nonce");
    assert_eq!(
        recorded, 1,
        "exactly one racing use_nonce replaces the expired record"
    );
}

/// Racers per round of the tag-limit race: even ones replace a tag, odd ones add one each,
/// more than twice as many as fit.
const TAGGERS: u32 = 64;

/// The tag racer `i` puts: even racers replace the value of `shared`, odd ones add a tag of
/// their own.
fn racing_tag(i: u32) -> openkms_core::Tag {
    if i % 2 == 0 {
        tag("shared", &i.to_string())
    } else {
        tag(&format!("racer-{i:02}"), "v")
    }
}

/// Checks one round of the tag-limit race on key `n`: every replacement `Ok`, exactly enough
/// additions `Ok` to fill the key and the others `LimitExceeded`, and the key holding
/// `shared` and the winners' tags only.
async fn check_tag_race(store: &impl Store, n: u32, results: Vec<(u32, Result<(), StoreError>)>) {
    let tags = store.list_tags(&key_id(n)).await.expect("list_tags");
    let stored: Vec<String> = tags.into_iter().map(|t| t.key).collect();
    let count = stored.len();
    assert!(
        count <= MAX_TAGS,
        "key {n} holds {count} tags, past the limit"
    );
    let mut held = vec!["shared".to_owned()];
    for (i, result) in results {
        match result {
            Ok(()) if i % 2 == 1 => held.push(racing_tag(i).key),
            Ok(()) => {}
            Err(StoreError::LimitExceeded) if i % 2 == 1 => {}
            other => panic!("racing put_tags {i} on key {n}: unexpected {other:?}"),
        }
    }
    held.sort();
    assert_eq!(
        stored, held,
        "key {n} holds exactly the tags whose put_tags won"
    );
    assert_eq!(
        held.len(),
        MAX_TAGS,
        "key {n} is full: no addition lost, none too many"
    );
}

/// Concurrent `put_tags` on a key holding one tag, each within the limit on its own: every
/// replacement is `Ok`, exactly `MAX_TAGS - 1` additions are, and the key never holds more
/// than `MAX_TAGS`. Several rounds, each on a fresh key.
pub async fn concurrent_put_tags_hold_the_limit<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    for round in 0..ROUNDS {
        let mut new = minimal_key(round);
        new.tags = vec![tag("shared", "first")];
        create(&*store, &new).await;
        let results = race(&store, TAGGERS, |store, i| async move {
            let put = [racing_tag(i)];
            store.put_tags(&key_id(round), &put, MAX_TAGS).await
        })
        .await;
        check_tag_race(&*store, round, results).await;
    }
}

/// Racers per round of the AccessKey-limit race, each creating an AccessKey of its own for
/// one user: eight times as many as fit.
const KEY_CREATORS: u32 = 16;

/// The AccessKey racer `i` of round `round` creates for `user`, made at time `i`.
fn racing_access_key(round: u32, i: u32, user: &str) -> AccessKeyRecord {
    owned_access_key(round * 100 + i, user, i64::from(i))
}

/// Checks one round of the AccessKey-limit race for `user`: exactly `MAX_ACCESS_KEYS`
/// creates `Ok`, the others `LimitExceeded`, and the user owning the winners' keys only.
async fn check_access_key_race(
    store: &impl Store,
    round: u32,
    user: &str,
    results: Vec<(u32, Result<(), StoreError>)>,
) {
    let mut won = Vec::new();
    for (i, result) in results {
        match result {
            Ok(()) => won.push(racing_access_key(round, i, user)),
            Err(StoreError::LimitExceeded) => {}
            other => panic!("racing create_user_access_key {i} for {user}: unexpected {other:?}"),
        }
    }
    let owned = store
        .list_access_keys(user)
        .await
        .expect("list_access_keys");
    assert_eq!(
        owned, won,
        "{user} owns exactly the AccessKeys whose create won"
    );
    assert_eq!(
        won.len(),
        MAX_ACCESS_KEYS,
        "{user} is full: no create lost, none too many"
    );
}

/// Concurrent `create_user_access_key` for one user without keys, each within the limit on
/// its own: exactly `MAX_ACCESS_KEYS` are `Ok`, and the user never owns more. Several
/// rounds, each for a fresh user.
pub async fn concurrent_create_user_access_key_holds_the_limit<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    for round in 0..ROUNDS {
        let name = format!("owner-{round}");
        store
            .create_user(&named_user(&name))
            .await
            .expect("create_user");
        let results = race(&store, KEY_CREATORS, |store, i| {
            let key = racing_access_key(round, i, &name);
            async move { store.create_user_access_key(&key, MAX_ACCESS_KEYS).await }
        })
        .await;
        check_access_key_race(&*store, round, &name, results).await;
    }
}

/// Writers per round of a write-versus-delete race: racers `0..ATTACHERS` attach (or create
/// an AccessKey), racer `ATTACHERS` deletes.
const ATTACHERS: u32 = 8;

/// Rounds of each write-versus-delete race (each over a fresh policy or user).
const ROUNDS: u32 = 8;

/// Checks one round of writers racing a delete of what they refer to; returns whether the
/// delete won. There are two outcomes only: the delete wins (`Ok`) and every write is
/// `ReferenceNotFound`, or it loses (`Conflict`) and every write succeeds.
fn delete_or_writes_won(results: Vec<(u32, Result<(), StoreError>)>, what: &str) -> bool {
    let deleted = results.iter().any(|(i, r)| *i == ATTACHERS && r.is_ok());
    for (i, result) in results {
        let what = format!("{what}, racer {i} (delete won: {deleted})");
        if i == ATTACHERS && !deleted {
            assert_conflict(result, &what);
        } else if i != ATTACHERS && deleted {
            assert_reference_not_found(result, &what);
        } else {
            assert!(result.is_ok(), "{what}: {result:?}");
        }
    }
    deleted
}

/// Users racing to attach a custom policy while it is deleted: either the policy is gone and
/// nobody holds it, or it stays and every attach was kept.
pub async fn concurrent_attach_and_delete_policy_stay_consistent<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    for n in 0..ATTACHERS {
        store.create_user(&user(n)).await.expect("create_user");
    }
    for round in 0..ROUNDS {
        let name = policy_name(round);
        store
            .create_policy(&policy(round))
            .await
            .expect("create_policy");
        let results = race(&store, ATTACHERS + 1, |store, i| {
            let name = name.clone();
            async move {
                if i == ATTACHERS {
                    return store.delete_policy(&name).await;
                }
                let record = attachment(&user_name(i), PolicyType::Custom, &name, 0);
                store.attach_policy(&record).await
            }
        })
        .await;
        let deleted = delete_or_writes_won(results, "attach racing delete_policy");
        let kept = store.get_policy(&name).await.expect("get_policy");
        assert_eq!(kept.is_none(), deleted, "the policy is gone iff deleted");
        let holders = store
            .list_policy_attachments(PolicyType::Custom, &name)
            .await
            .expect("list_policy_attachments");
        let expected = if deleted { 0 } else { ATTACHERS as usize };
        assert_eq!(holders.len(), expected, "attachments of policy {round}");
    }
}

/// Policies racing to be attached to a user while it is deleted: either the user is gone and
/// holds nothing, or it stays and holds every policy attached.
pub async fn concurrent_attach_and_delete_user_stay_consistent<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    for round in 0..ROUNDS {
        let name = format!("racer-{round}");
        store
            .create_user(&named_user(&name))
            .await
            .expect("create_user");
        let results = race(&store, ATTACHERS + 1, |store, i| {
            let name = name.clone();
            async move {
                if i == ATTACHERS {
                    return store.delete_user(&name).await;
                }
                let policy = format!("System-{i}");
                let record = attachment(&name, PolicyType::System, &policy, 0);
                store.attach_policy(&record).await
            }
        })
        .await;
        let deleted = delete_or_writes_won(results, "attach racing delete_user");
        let kept = store.get_user(&name).await.expect("get_user");
        assert_eq!(kept.is_none(), deleted, "the user is gone iff deleted");
        let held = store
            .list_user_attachments(&name)
            .await
            .expect("list_user_attachments");
        let expected = if deleted { 0 } else { ATTACHERS as usize };
        assert_eq!(held.len(), expected, "attachments of user {round}");
    }
}

/// Checks that after a round of AccessKey creates racing the delete of `user`, the user and
/// every racer's key exist, or none of them does.
async fn check_owner_kept_iff_keys_kept(store: &impl Store, round: u32, user: &str, deleted: bool) {
    let kept = store.get_user(user).await.expect("get_user");
    assert_eq!(kept.is_none(), deleted, "{user} is gone iff deleted");
    for i in 0..ATTACHERS {
        let id = racing_access_key(round, i, user).access_key_id;
        let key = store.get_access_key(&id).await.expect("get_access_key");
        assert_eq!(
            key.is_some(),
            !deleted,
            "AccessKey {i} of {user} (deleted: {deleted}): no key outlives its user"
        );
    }
}

/// Rounds of the AccessKey-versus-delete race: more than the others, since a check-then-write
/// backend leaves an orphaned key only when the delete lands inside the window.
const OWNER_ROUNDS: u32 = 32;

/// AccessKeys racing to be created for a user while it is deleted, under a limit that fits
/// them all: either the user is gone and no key of it was kept, or it stays and owns every
/// key created.
pub async fn concurrent_create_access_key_and_delete_user_stay_consistent<F: StoreFactory>(
    factory: F,
) {
    let store = Arc::new(factory.open().await);
    for round in 0..OWNER_ROUNDS {
        let name = format!("holder-{round}");
        store
            .create_user(&named_user(&name))
            .await
            .expect("create_user");
        let results = race(&store, ATTACHERS + 1, |store, i| {
            let name = name.clone();
            let key = racing_access_key(round, i, &name);
            async move {
                if i == ATTACHERS {
                    return store.delete_user(&name).await;
                }
                store.create_user_access_key(&key, ATTACHERS as usize).await
            }
        })
        .await;
        let what = "create_user_access_key racing delete_user";
        let deleted = delete_or_writes_won(results, what);
        check_owner_kept_iff_keys_kept(&*store, round, &name, deleted).await;
    }
}
