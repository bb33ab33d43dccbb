//! The background job loop: destroys keys whose pending window ended and rotates keys that
//! are due (one [`KeyService::run_due`] pass), destroys secrets whose recovery window ended
//! ([`KeyService::purge_due_secrets`]), purges expired replay nonces from a shared
//! replay store, at start and then every period, and exports the key cache counters.
//!
//! It takes the key service from the server's slot at each pass and holds it only for that
//! pass, so a sealed server (an empty slot) does nothing and keeps no root key alive.
//!
//! It stops with the server: it watches the same shutdown signal, finishes the pass it is in
//! (a pass is never cut in half) and returns, so the binary can wait for it before exiting.
//! What a pass does is the core's business.

use std::sync::Arc;
use std::time::Duration;

use openkms_api::slot::ServiceSlot;
use openkms_core::{KeyService, ReplayStore};
use tokio::sync::watch;

/// Tells the background work to stop; dropping it says the same.
#[derive(Debug)]
pub struct Stop(watch::Sender<bool>);

/// What the background work watches for the stop.
#[derive(Debug, Clone)]
pub struct StopSignal(watch::Receiver<bool>);

/// A stop and the signal it raises.
pub fn stop_channel() -> (Stop, StopSignal) {
    let (tx, rx) = watch::channel(false);
    (Stop(tx), StopSignal(rx))
}

impl Stop {
    /// Raises the signal (idempotent).
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl StopSignal {
    /// Completes once the stop is raised or its sender is gone.
    pub async fn stopped(&mut self) {
        // An error means the sender was dropped: nobody can ask to keep going.
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}

/// Runs a pass now, then every `period`, until `stop` is raised; a pass under way finishes.
pub async fn run(
    slot: Arc<ServiceSlot>,
    shared_nonces: Option<Arc<dyn ReplayStore>>,
    period: Duration,
    mut stop: StopSignal,
) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = stop.stopped() => break,
            _ = tick.tick() => {
                if let Some(service) = slot.service() {
                    pass(&service, shared_nonces.as_deref()).await;
                }
            }
        }
    }
    tracing::debug!("background key work stopped");
}

/// One pass: export the cache counters, purge expired shared nonces, then do whatever is due.
async fn pass(service: &KeyService, shared_nonces: Option<&dyn ReplayStore>) {
    let (hits, misses) = service.cache_stats();
    metrics::counter!("openkms_key_cache_hits_total").absolute(hits);
    metrics::counter!("openkms_key_cache_misses_total").absolute(misses);
    if let Some(replay) = shared_nonces {
        if let Err(e) = replay.purge_nonces(service.clock().now()).await {
            tracing::warn!(error = %e, "purging expired nonces failed; will retry");
        }
    }
    match service.run_due().await {
        Ok(w) => {
            if w.destroyed + w.rotated > 0 {
                tracing::info!(
                    destroyed = w.destroyed,
                    rotated = w.rotated,
                    "due key work done"
                );
            }
            if w.rotations_deferred > 0 {
                tracing::warn!(
                    deferred = w.rotations_deferred,
                    "automatic rotations deferred: key generation is busy; will retry"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "due key work failed; will retry"),
    }
    match service.purge_due_secrets().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(destroyed = n, "due secret deletions done"),
        Err(e) => tracing::warn!(error = %e, "due secret deletions failed; will retry"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use openkms_core::service::CreateKeyInput;
    use openkms_core::{KeyRef, KeySpec, KmsError, ManualClock, OsRandom, RootKey, ServiceConfig};
    use openkms_store_sqlite::SqliteStore;

    /// Far longer than anything here should take; only a hang reaches it.
    const BOUND: Duration = Duration::from_secs(10);
    const DAY: i64 = 86_400;

    async fn service(dir: &tempfile::TempDir, clock: Arc<ManualClock>) -> Arc<KeyService> {
        let store = SqliteStore::open(&dir.path().join("openkms.db")).unwrap();
        let config = ServiceConfig {
            region_id: "cn-hangzhou".into(),
            account_id: None,
            cache_ttl_ms: None,
        };
        let rng = Arc::new(OsRandom::new());
        let root = RootKey::generate(rng.as_ref());
        let svc = KeyService::open(Arc::new(store), root, clock, rng, config);
        Arc::new(svc.await.unwrap())
    }

    async fn key(svc: &KeyService) -> String {
        let input = CreateKeyInput::of_spec(KeySpec::AliyunAes256);
        svc.create_key(input).await.unwrap().key_id
    }

    /// A service on a manual clock with one key scheduled for deletion in 7 days and the
    /// clock 8 days on, so the next pass destroys it; the service and the key's id.
    async fn past_its_deletion_date(dir: &tempfile::TempDir) -> (Arc<KeyService>, String) {
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        let svc = service(dir, clock.clone()).await;
        let doomed = key(&svc).await;
        svc.schedule_key_deletion(&doomed, 7).await.unwrap();
        clock.advance(8 * DAY);
        (svc, doomed)
    }

    fn slot(svc: &Arc<KeyService>) -> Arc<ServiceSlot> {
        Arc::new(ServiceSlot::unsealed(svc.clone()))
    }

    async fn gone(svc: &KeyService, key_id: &str) -> bool {
        let found = svc.describe_key(&KeyRef::Id(key_id.into())).await;
        matches!(found, Err(KmsError::KeyNotFound))
    }

    #[tokio::test]
    async fn the_loop_does_due_work_and_exits_promptly_when_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let (svc, doomed) = past_its_deletion_date(&dir).await;
        let (stop, signal) = stop_channel();
        // An hour's period: only the first pass, at start, can destroy the key.
        let jobs = tokio::spawn(run(slot(&svc), None, Duration::from_secs(3600), signal));
        let deadline = tokio::time::Instant::now() + BOUND;
        while !gone(&svc, &doomed).await {
            assert!(tokio::time::Instant::now() < deadline, "no pass at start");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.stop();
        let ended = tokio::time::timeout(BOUND, jobs).await;
        ended.expect("the loop exits once stopped").unwrap();
    }

    #[tokio::test]
    async fn the_loop_exits_when_its_stop_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(&dir, Arc::new(ManualClock::new(1_700_000_000))).await;
        let (stop, signal) = stop_channel();
        let jobs = tokio::spawn(run(slot(&svc), None, Duration::from_millis(5), signal));
        tokio::time::sleep(Duration::from_millis(30)).await;
        drop(stop);
        let ended = tokio::time::timeout(BOUND, jobs).await;
        ended.expect("the loop exits without its stop").unwrap();
    }

    #[tokio::test]
    async fn a_loop_stopped_before_it_starts_does_no_pass() {
        let dir = tempfile::tempdir().unwrap();
        let (svc, doomed) = past_its_deletion_date(&dir).await;
        let (stop, signal) = stop_channel();
        stop.stop();
        let ended = tokio::time::timeout(BOUND, run(slot(&svc), None, BOUND, signal)).await;
        ended.expect("the loop exits at once");
        assert!(!gone(&svc, &doomed).await, "no pass after the stop");
    }
}
