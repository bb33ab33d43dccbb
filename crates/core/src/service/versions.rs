//! Key versions: CreateKeyVersion (manual rotation), automatic rotation, listing and describing.
//!
//! A new version gets fresh material from the key provider and becomes the primary
//! in the same transaction (`Store::add_version`); Encrypt uses it from the next request on,
//! while Decrypt keeps working with every older version that still exists.

use std::sync::Arc;

use super::KeyService;
use super::cache::{CachedKey, VersionKey};
use super::lifecycle::MAX_CONFLICT_RETRIES;
use crate::error::KmsError;
use crate::model::{KeyRecord, KeyState, VersionRecord};
use crate::provider::{LoadedKey, StoredKey};
use crate::random::uuid_v4;
use crate::store::StoreError;

/// How often a rotation is retried after a concurrent update.
const MAX_ATTEMPTS: usize = MAX_CONFLICT_RETRIES;

/// Who asked for a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rotation {
    /// CreateKeyVersion: subject to the versions quota.
    Requested,
    /// Automatic rotation: bounded by its interval instead, never refused by the quota.
    Automatic,
}

impl KeyService {
    /// CreateKeyVersion: a new primary version for an Enabled key.
    pub async fn create_key_version(&self, key_id: &str) -> Result<VersionRecord, KmsError> {
        let allowed = |k: &KeyRecord| match k.state {
            // Imported material never rotates (next-surfaces §4.1).
            _ if k.origin == crate::model::Origin::External => Err(KmsError::RejectedUnsupported),
            KeyState::Enabled => Ok(()),
            other => Err(KmsError::KeyStateRejected(other)),
        };
        self.rotate(key_id, Rotation::Requested, allowed).await
    }

    /// Makes a new primary version if `allowed` accepts the current record (and, for a
    /// requested rotation, the versions quota has room).
    pub(crate) async fn rotate<F>(
        &self,
        key_id: &str,
        kind: Rotation,
        allowed: F,
    ) -> Result<VersionRecord, KmsError>
    where
        F: Fn(&KeyRecord) -> Result<(), KmsError>,
    {
        // One version id and one generation for every attempt: a conflict retries the write,
        // not the (possibly seconds-long) key-pair generation.
        let version_id = uuid_v4(self.rng.as_ref());
        let mut material: Option<(StoredKey, LoadedKey)> = None;
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .store
                .get_key(key_id)
                .await?
                .ok_or(KmsError::KeyNotFound)?;
            allowed(&current)?;
            if kind == Rotation::Requested {
                // Counted again on every attempt: a racing rotation made this one conflict.
                self.admit_version(key_id).await?;
            }
            let (stored, loaded) = match material.take() {
                Some(made) => made,
                None => {
                    let (level, spec) = (current.protection_level, current.spec);
                    self.make_material(level, spec, current.usage, key_id, &version_id)
                        .await?
                }
            };
            let (record, version) = self.next_version(&current, &version_id, &stored);
            match self.store.add_version(&record, &version).await {
                Ok(()) => {
                    let primary = Arc::new(VersionKey {
                        version_id: version.version_id.clone(),
                        key_id: key_id.to_owned(),
                        key: loaded,
                    });
                    self.cache
                        .changed_key(Arc::new(CachedKey::made(record, primary)));
                    return Ok(version);
                }
                Err(StoreError::Conflict) => material = Some((stored, loaded)),
                Err(StoreError::NotFound) => return Err(KmsError::KeyNotFound),
                Err(e) => return Err(e.into()),
            }
        }
        Err(KmsError::Contended)
    }

    /// The next version's records, with `stored` as its material; nothing is stored yet.
    fn next_version(
        &self,
        current: &KeyRecord,
        version_id: &str,
        stored: &StoredKey,
    ) -> (KeyRecord, VersionRecord) {
        let now = self.clock.now();
        let record = KeyRecord {
            primary_version: version_id.to_owned(),
            last_rotation_at: now,
            next_rotation_at: current.rotation_interval.map(|i| now + i),
            revision: current.revision + 1,
            ..current.clone()
        };
        let version = VersionRecord {
            version_id: version_id.to_owned(),
            key_id: current.key_id.clone(),
            created_at: now,
            wrapped_material: stored.as_bytes().to_vec(),
        };
        (record, version)
    }

    /// ListKeyVersions: every version of a key, oldest first.
    pub async fn list_key_versions(&self, key_id: &str) -> Result<Vec<VersionRecord>, KmsError> {
        self.store
            .get_key(key_id)
            .await?
            .ok_or(KmsError::KeyNotFound)?;
        Ok(self.store.list_versions(key_id).await?)
    }

    /// DescribeKeyVersion: one version, which must belong to the key.
    pub async fn describe_key_version(
        &self,
        key_id: &str,
        version_id: &str,
    ) -> Result<VersionRecord, KmsError> {
        self.store
            .get_key(key_id)
            .await?
            .ok_or(KmsError::KeyNotFound)?;
        match self.store.get_version(version_id).await? {
            Some(v) if v.key_id == key_id => Ok(v),
            _ => Err(KmsError::KeyVersionNotFound),
        }
    }
}
