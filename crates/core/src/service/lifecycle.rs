//! Key state and settings: enable, disable, schedule and cancel deletion, deletion protection,
//! description, rotation policy.
//!
//! Every change is a read-modify-write of the key record under optimistic concurrency (the
//! record's revision): a concurrent change by another request or node makes the store answer
//! `Conflict`, and the change is re-applied to the fresh record. The new record is durable
//! before the cache sees it, and the cache sees it before the caller is answered, so the very
//! next request observes it. The state rules are §4.4 of the wire contract.

use std::sync::Arc;

use super::KeyService;
use crate::error::{Field, InvalidReason, KmsError};
use crate::model::{KeyRecord, KeyState};
use crate::store::StoreError;

/// How often a change is re-applied after a concurrent update before giving up. Every
/// conflict means another writer succeeded, so this bounds the concurrent writers of one key
/// a request can outlast.
pub(crate) const MAX_CONFLICT_RETRIES: usize = 64;
/// Attempts of one change.
const MAX_ATTEMPTS: usize = MAX_CONFLICT_RETRIES;
/// Accepted pending windows for ScheduleKeyDeletion, in days.
pub const PENDING_WINDOW_DAYS: std::ops::RangeInclusive<i64> = 7..=366;
/// Shortest and longest automatic rotation interval, in seconds (7 and 365 days).
pub const ROTATION_BOUNDS: std::ops::RangeInclusive<i64> = 7 * 86_400..=365 * 86_400;

impl KeyService {
    /// EnableKey: Enabled or Disabled becomes Enabled (not a key whose imported material
    /// expired: it is PendingImport).
    pub async fn enable_key(&self, key_id: &str) -> Result<KeyRecord, KmsError> {
        self.refuse_expired(key_id).await?;
        self.modify_key(key_id, |k| match k.state {
            KeyState::Enabled | KeyState::Disabled => Ok(with_state(k, KeyState::Enabled)),
            KeyState::PendingDeletion | KeyState::PendingImport => {
                Err(KmsError::StateModifiedFailed)
            }
        })
        .await
    }

    /// DisableKey: Enabled or Disabled becomes Disabled (not a key whose imported material
    /// expired: it is PendingImport).
    pub async fn disable_key(&self, key_id: &str) -> Result<KeyRecord, KmsError> {
        self.refuse_expired(key_id).await?;
        self.modify_key(key_id, |k| match k.state {
            KeyState::Enabled | KeyState::Disabled => Ok(with_state(k, KeyState::Disabled)),
            KeyState::PendingDeletion | KeyState::PendingImport => {
                Err(KmsError::StateModifiedFailed)
            }
        })
        .await
    }

    /// ScheduleKeyDeletion: the key is destroyed `days` days from now unless cancelled.
    pub async fn schedule_key_deletion(
        &self,
        key_id: &str,
        days: i64,
    ) -> Result<KeyRecord, KmsError> {
        if !PENDING_WINDOW_DAYS.contains(&days) {
            return Err(KmsError::invalid(
                Field::PendingWindowInDays,
                InvalidReason::OutOfRange,
            ));
        }
        let delete_at = self.clock.now() + days * 86_400;
        self.modify_key(key_id, |k| {
            if k.deletion_protection.is_some() {
                return Err(KmsError::DeletionProtected);
            }
            match k.state {
                KeyState::PendingDeletion => Err(KmsError::StateModifiedFailed),
                _ => Ok(KeyRecord {
                    state: KeyState::PendingDeletion,
                    delete_at: Some(delete_at),
                    ..k.clone()
                }),
            }
        })
        .await
    }

    /// CancelKeyDeletion: a key pending deletion returns to Enabled. (The Alibaba docs do not
    /// say which state it returns to; Enabled is what their console shows after a cancel.)
    /// An EXTERNAL key without material returns to PendingImport instead. Whether it has
    /// material is read after the key's record and before the write at that record's next
    /// revision: an import or DeleteKeyMaterial landing in between moves the revision on, so
    /// the write conflicts and is decided again from fresh reads.
    pub async fn cancel_key_deletion(&self, key_id: &str) -> Result<KeyRecord, KmsError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .store
                .get_key(key_id)
                .await?
                .ok_or(KmsError::KeyNotFound)?;
            if current.state != KeyState::PendingDeletion {
                return Err(KmsError::StateModifiedFailed);
            }
            let back = match self.has_material(&current).await? {
                true => KeyState::Enabled,
                false => KeyState::PendingImport,
            };
            let next = KeyRecord {
                delete_at: None,
                revision: current.revision + 1,
                ..with_state(&current, back)
            };
            match self.store.update_key(&next).await {
                Ok(()) => return self.cache_changed(next).await,
                Err(StoreError::Conflict) => continue,
                Err(StoreError::NotFound) => return Err(KmsError::KeyNotFound),
                Err(e) => return Err(e.into()),
            }
        }
        Err(KmsError::Contended)
    }

    /// SetDeletionProtection: `Some(description)` protects the key, `None` unprotects it.
    pub async fn set_deletion_protection(
        &self,
        key_id: &str,
        protection: Option<String>,
    ) -> Result<KeyRecord, KmsError> {
        if let Some(description) = &protection {
            super::keys::plain_text(Field::DeletionProtectionDescription, description)?;
        }
        self.modify_key(key_id, |k| {
            Ok(KeyRecord {
                deletion_protection: protection.clone(),
                ..k.clone()
            })
        })
        .await
    }

    /// UpdateKeyDescription.
    pub async fn update_key_description(
        &self,
        key_id: &str,
        description: &str,
    ) -> Result<KeyRecord, KmsError> {
        super::keys::validate_description(description)?;
        self.modify_key(key_id, |k| {
            Ok(KeyRecord {
                description: description.to_owned(),
                ..k.clone()
            })
        })
        .await
    }

    /// UpdateRotationPolicy: `Some(interval)` enables automatic rotation every `interval`
    /// seconds, counted from the last rotation; `None` disables it.
    pub async fn update_rotation_policy(
        &self,
        key_id: &str,
        interval: Option<i64>,
    ) -> Result<KeyRecord, KmsError> {
        if let Some(i) = interval
            && !ROTATION_BOUNDS.contains(&i)
        {
            return Err(KmsError::invalid(
                Field::RotationInterval,
                InvalidReason::OutOfRange,
            ));
        }
        self.modify_key(key_id, |k| {
            // Key pairs have no automatic rotation (§3.2); CreateKeyVersion makes a new pair.
            // Imported material never rotates (next-surfaces §4.1).
            if k.spec.is_asymmetric() || k.origin == crate::model::Origin::External {
                return Err(KmsError::RejectedUnsupported);
            }
            let next = interval.map(|i| k.last_rotation_at + i);
            Ok(KeyRecord {
                rotation_interval: interval,
                next_rotation_at: next,
                ..k.clone()
            })
        })
        .await
    }

    /// `StateModifiedFailed` if the key is PendingImport now (§4.4), which an EXTERNAL key
    /// whose material expired is while its record still says Enabled or Disabled.
    async fn refuse_expired(&self, key_id: &str) -> Result<(), KmsError> {
        let key = super::KeyRef::Id(key_id.to_owned());
        match self.describe_key_expiry(&key).await?.0.state {
            KeyState::PendingImport => Err(KmsError::StateModifiedFailed),
            _ => Ok(()),
        }
    }

    /// Applies `change` to the stored record of `key_id` until it lands without a conflict.
    pub(crate) async fn modify_key<F>(&self, key_id: &str, change: F) -> Result<KeyRecord, KmsError>
    where
        F: Fn(&KeyRecord) -> Result<KeyRecord, KmsError>,
    {
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .store
                .get_key(key_id)
                .await?
                .ok_or(KmsError::KeyNotFound)?;
            let mut next = change(&current)?;
            next.revision = current.revision + 1;
            match self.store.update_key(&next).await {
                Ok(()) => return self.cache_changed(next).await,
                Err(StoreError::Conflict) => continue,
                Err(StoreError::NotFound) => return Err(KmsError::KeyNotFound),
                Err(e) => return Err(e.into()),
            }
        }
        Err(KmsError::Contended)
    }

    /// Puts a durably changed record into the cache with its primary version.
    pub(crate) async fn cache_changed(&self, record: KeyRecord) -> Result<KeyRecord, KmsError> {
        let cached = self.cached_key(record.clone()).await?;
        self.cache.changed_key(Arc::new(cached));
        Ok(record)
    }
}

fn with_state(k: &KeyRecord, state: KeyState) -> KeyRecord {
    KeyRecord { state, ..k.clone() }
}
