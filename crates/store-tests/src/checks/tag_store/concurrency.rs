//! Tags under concurrent writers: no key tagged past its limit by writers that each stayed
//! within it.

use std::sync::Arc;

use openkms_core::StoreError;

use crate::StoreFactory;
use crate::checks::create;
use crate::checks::prelude::*;
use crate::checks::race::{ROUNDS, race};
use crate::fixtures::{MAX_TAGS, key_id, minimal_key, tag};

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
