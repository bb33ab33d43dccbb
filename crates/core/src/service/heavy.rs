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
//!
//! A lane made with [`HeavyWork::bounded`] also caps how many requests may wait: beyond it a
//! request is refused at once with [`KmsError::Throttled`] instead of queueing. The wrapping
//! keys of GetParametersForImport (an RSA-2048 generation per call, which any caller allowed
//! the action on its own EXTERNAL key can ask for) run on such a lane of their own, so a flood
//! of them neither grows an unbounded queue nor starves the other private-key work.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::error::KmsError;

/// A bounded lane for CPU-heavy key work.
#[derive(Debug, Clone)]
pub(crate) struct HeavyWork {
    permits: Arc<Semaphore>,
    /// The requests admitted (running or waiting) and the most admitted at once; `None`:
    /// any number may wait.
    admitted: Option<(Arc<AtomicUsize>, usize)>,
}

/// One admitted request of a bounded lane; leaving the lane (dropped) frees its place.
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HeavyWork {
    /// A lane running at most `permits` jobs at once (at least one).
    pub(crate) fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            admitted: None,
        }
    }

    /// A lane running at most `permits` jobs at once (at least one) with at most
    /// `max_waiting` more requests waiting; any further one is [`KmsError::Throttled`].
    pub(crate) fn bounded(permits: usize, max_waiting: usize) -> Self {
        let permits = permits.max(1);
        Self {
            permits: Arc::new(Semaphore::new(permits)),
            admitted: Some((Arc::new(AtomicUsize::new(0)), permits + max_waiting)),
        }
    }

    /// A place on the lane: `None` on an unbounded lane, `Throttled` when a bounded one is
    /// full.
    fn admit(&self) -> Result<Option<Admission>, KmsError> {
        let Some((count, most)) = &self.admitted else {
            return Ok(None);
        };
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < *most).then_some(n + 1)
            })
            .map_err(|_| KmsError::Throttled)?;
        Ok(Some(Admission(count.clone())))
    }

    /// A lane with one permit per core the process may use.
    pub(crate) fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Runs `work` on a blocking thread once a permit is free; its result. A panic in
    /// `work` is [`KmsError::Custody`]; a bounded lane that is full, [`KmsError::Throttled`].
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, KmsError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let admission = self.admit()?;
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| KmsError::Custody)?;
        tokio::task::spawn_blocking(move || {
            let _held = (permit, admission);
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

    /// A bounded lane refuses at once the request beyond its running and waiting places,
    /// and admits again once a place is free.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_bounded_lane_refuses_fast() {
        let lane = HeavyWork::bounded(1, 2);
        let (tx, rx) = mpsc::channel::<()>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let mut held = Vec::new();
        for _ in 0..3 {
            let (lane, rx) = (lane.clone(), rx.clone());
            held.push(tokio::spawn(async move {
                lane.run(move || {
                    let rx = rx.lock().map_err(|_| ())?;
                    rx.recv_timeout(Duration::from_secs(60)).map_err(|_| ())
                })
                .await
            }));
        }
        let count = lane.admitted.as_ref().map(|(c, _)| c.clone()).unwrap();
        while count.load(Ordering::Acquire) < 3 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let started = std::time::Instant::now();
        let refused = lane.run(|| ()).await;
        assert!(matches!(refused, Err(KmsError::Throttled)));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused at once"
        );
        for _ in 0..3 {
            tx.send(()).unwrap();
        }
        for job in held {
            assert_eq!(job.await.unwrap().unwrap(), Ok(()));
        }
        assert_eq!(lane.run(|| 7).await.unwrap(), 7, "admits again");
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
