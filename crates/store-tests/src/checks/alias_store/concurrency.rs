//! Aliases under concurrent writers: one winner per alias name.

use std::sync::Arc;

use openkms_core::StoreError;

use crate::StoreFactory;
use crate::checks::create;
use crate::checks::prelude::*;
use crate::checks::race::race;
use crate::fixtures::{alias, key_id, minimal_key};

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
