//! ListKeys' cost per page on SQLite, before and after keyset paging (issue 13, finding 7).
//!
//! `cargo bench -p openkms-store-sqlite --bench list_keys` (release). For 6,000 and 100,000
//! keys created straight through the store (concurrently, so the group commit batches them),
//! times, as the median of many calls on the key service: the whole-listing read that
//! ListKeys did before (`list_keys` then the page cut out), page 1, a deep page served in
//! order (its boundary remembered) and a deep page asked for out of order (the index skip),
//! and the `TotalCount` alone. Prints one table row per measure; no assertion.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use openkms_core::{
    KeySelection, KeyService, KeyStore, OsRandom, RootKey, ServiceConfig, SystemClock,
};
use openkms_store_sqlite::SqliteStore;
use openkms_store_tests::fixtures::minimal_key;

const SIZE: usize = 10;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("| keys | measure | median per call |");
    println!("|---:|---|---:|");
    for total in [6_000u32, 100_000] {
        runtime.block_on(measure(total));
    }
}

async fn measure(total: u32) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("openkms.db")).unwrap());
    let rng = Arc::new(OsRandom::new());
    let config = ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: Some("1234567890123456".into()),
        cache_ttl_ms: None,
    };
    let svc = KeyService::open(
        store.clone(),
        RootKey::generate(rng.as_ref()),
        Arc::new(SystemClock),
        rng,
        config,
    )
    .await
    .unwrap();
    fill(&store, total).await;
    let last = total as usize / SIZE;
    let calls = if total > 10_000 { 40 } else { 200 };
    let row = |what: &str, t: Duration| println!("| {total} | {what} | {:.3} ms |", ms(t));
    row(
        "before: whole listing, page 1",
        median(calls, || async {
            let all = svc.list_keys(&[]).await.unwrap();
            assert_eq!(all.into_iter().take(SIZE).count(), SIZE);
        })
        .await,
    );
    row("after: page 1", median(calls * 5, || page(&svc, 1)).await);
    svc.list_keys_page(&[], last - 1, SIZE).await.unwrap();
    row(
        "after: last page, in order",
        median(calls * 5, || page(&svc, last)).await,
    );
    row(
        "after: page total/2, out of order",
        median(calls, || page(&svc, last / 2)).await,
    );
    let all = KeySelection::all();
    row(
        "TotalCount alone (count_keys)",
        median(calls * 5, || async {
            store.count_keys(&all).await.unwrap();
        })
        .await,
    );
}

async fn page(svc: &KeyService, number: usize) {
    let page = svc.list_keys_page(&[], number, SIZE).await.unwrap();
    assert_eq!(page.items.len(), SIZE);
}

/// Creates `total` keys through the store, 500 at a time in flight.
async fn fill(store: &Arc<SqliteStore>, total: u32) {
    let mut n = 1;
    while n <= total {
        let batch: Vec<_> = (n..(n + 500).min(total + 1))
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut new = minimal_key(i);
                    new.key.created_at = 1_700_000_000 + i64::from(i / 7);
                    store.create_key(&new.key, &new.version, &[]).await.unwrap();
                })
            })
            .collect();
        for task in batch {
            task.await.unwrap();
        }
        n += 500;
    }
}

/// The median time of `calls` runs of `f`.
async fn median<F, Fut>(calls: usize, f: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await;
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        f().await;
        times.push(start.elapsed());
    }
    times.sort();
    times[calls / 2]
}

fn ms(t: Duration) -> f64 {
    t.as_secs_f64() * 1000.0
}
