//! Heavy key work off the async workers: key-pair generation, loading and private-key
//! operations run on Tokio's blocking threads, at most a few at a time.
//!
//! An RSA_4096 key takes seconds to generate and an RSA private operation milliseconds; done
//! on an async worker, a handful of them stall every other request on that worker (review
//! finding 1). [`HeavyWork::run`] takes one of a fixed number of permits (the number of cores
//! by default) and runs the work on a blocking thread, so symmetric Encrypt/Decrypt keep being
//! served while key pairs are made. Callers beyond the permits wait in line, each holding
//! only its own request. The permit travels with the work: a request that is dropped while
//! its work runs still holds its permit until the work ends.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::KmsError;

/// A bounded lane for CPU-heavy key work.
#[derive(Debug, Clone)]
pub(crate) struct HeavyWork {
    permits: Arc<Semaphore>,
}

impl HeavyWork {
    /// A lane running at most `permits` jobs at once (at least one).
    pub(crate) fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
        }
    }

    /// A lane with one permit per core the process may use.
    pub(crate) fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Runs `work` on a blocking thread once a permit is free; its result. A panic in
    /// `work` is [`KmsError::Custody`].
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, KmsError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| KmsError::Custody)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|_| KmsError::Custody)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    /// No more jobs run at once than there are permits, however many are queued.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn never_more_jobs_than_permits() {
        let lane = HeavyWork::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (lane, running, most) = (lane.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                lane.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        });
        for job in jobs.collect::<Vec<_>>() {
            job.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    /// On a runtime with ONE async worker, a job that blocks until another async task has
    /// run does not deadlock: the job is not on the worker. (Run inline, it would wait
    /// forever; the receive gives up after a minute so the test fails instead of hanging.)
    #[tokio::test(flavor = "current_thread")]
    async fn heavy_work_leaves_the_async_worker_free() {
        let lane = HeavyWork::new(1);
        let (tx, rx) = mpsc::channel::<()>();
        let heavy = tokio::spawn({
            let lane = lane.clone();
            async move {
                lane.run(move || rx.recv_timeout(Duration::from_secs(60)))
                    .await
            }
        });
        tokio::task::yield_now().await;
        let light = tokio::spawn(async move { tx.send(()) });
        light.await.unwrap().unwrap();
        assert_eq!(heavy.await.unwrap().unwrap(), Ok(()));
    }

    /// A panicking job is an error, and its permit comes back.
    #[tokio::test]
    async fn a_panic_is_custody_and_frees_the_permit() {
        let lane = HeavyWork::new(1);
        let failed = lane.run(|| panic!("boom")).await;
        assert!(matches!(failed, Err(KmsError::Custody)));
        assert_eq!(lane.run(|| 7).await.unwrap(), 7);
    }
}
