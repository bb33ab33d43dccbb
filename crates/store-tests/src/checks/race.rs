//! Racing helpers of the concurrency checks: release many writers together, and check that
//! exactly one of them won.

use std::future::Future;
use std::sync::Arc;

use openkms_core::StoreError;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::checks::assert_conflict;
use crate::checks::prelude::*;

/// Runs `work(store, i)` for `i` in `0..count` as tasks released together; results by `i`.
pub(crate) async fn race<S, W, Fut, T>(store: &Arc<S>, count: u32, work: W) -> Vec<(u32, T)>
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

/// The one `Ok` among `results`; every other result must be `Conflict`.
pub(crate) fn one_winner(results: Vec<(u32, Result<(), StoreError>)>, what: &str) -> u32 {
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

/// Rounds of each write-versus-delete race (each over a fresh policy, user or key).
pub(crate) const ROUNDS: u32 = 8;
