//! RAM identities under concurrent writers: no user given AccessKeys past its limit, and no
//! attachment or AccessKey of a user or custom policy that a racing delete removed.

use std::sync::Arc;

use openkms_core::{AccessKeyRecord, PolicyType, StoreError};

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::checks::race::{ROUNDS, race};
use crate::checks::{assert_conflict, assert_reference_not_found};
use crate::fixtures::{
    MAX_ACCESS_KEYS, attachment, named_user, owned_access_key, policy, policy_name, user, user_name,
};

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
