//! Work the clock brings due: destroying keys whose pending window ended, and rotating keys
//! whose rotation interval elapsed — including everything that fell due while the server was
//! down, since due work is found by comparing stored dates with the [`crate::Clock`].
//!
//! The binary calls [`KeyService::run_due`] periodically; tests call it after moving a fake
//! clock. Destruction deletes the material from the store and from memory.

use super::KeyService;
use super::versions::Rotation;
use crate::error::KmsError;
use crate::model::{KeyRecord, KeyState};
use crate::store::StoreError;

/// What one pass of [`KeyService::run_due`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DueWork {
    /// Keys destroyed.
    pub destroyed: usize,
    /// Keys rotated.
    pub rotated: usize,
    /// Keys due for rotation whose rotation was throttled (its generation lane was full):
    /// retried at the next pass.
    pub rotations_deferred: usize,
}

impl KeyService {
    /// Destroys and rotates every key that is due now.
    pub async fn run_due(&self) -> Result<DueWork, KmsError> {
        let now = self.clock.now();
        let mut work = DueWork::default();
        for key in self.store.due_keys(now).await? {
            if is_due_for_deletion(&key, now) {
                work.destroyed += usize::from(self.destroy(&key.key_id).await?);
            } else {
                let rotated = self
                    .rotate(&key.key_id, Rotation::Automatic, |k| {
                        rotation_still_due(k, now)
                    })
                    .await;
                match rotated {
                    Ok(_) => work.rotated += 1,
                    Err(KmsError::Throttled) => work.rotations_deferred += 1,
                    // No longer due (changed meanwhile), or failed: found again next pass.
                    Err(_) => {}
                }
            }
        }
        Ok(work)
    }

    /// Destroys a key now; false if it was already gone.
    async fn destroy(&self, key_id: &str) -> Result<bool, KmsError> {
        let gone = match self.store.destroy_key(key_id).await {
            Ok(()) => true,
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        self.cache.destroyed_key(key_id);
        Ok(gone)
    }
}

fn is_due_for_deletion(key: &KeyRecord, now: i64) -> bool {
    key.state == KeyState::PendingDeletion && key.delete_at.is_some_and(|d| d <= now)
}

/// Re-checked on the fresh record, so a policy change or a manual rotation in the meantime
/// cancels the automatic one.
fn rotation_still_due(key: &KeyRecord, now: i64) -> Result<(), KmsError> {
    match (key.state, key.next_rotation_at) {
        (KeyState::Enabled, Some(next)) if next <= now => Ok(()),
        _ => Err(KmsError::StateModifiedFailed),
    }
}
