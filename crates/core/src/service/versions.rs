//! Key versions: CreateKeyVersion (manual rotation), automatic rotation, listing and describing.
//!
//! A new version gets fresh random material wrapped under the root key and becomes the primary
//! in the same transaction (`Store::add_version`); Encrypt uses it from the next request on,
//! while Decrypt keeps working with every older version that still exists.

use std::sync::Arc;

use super::KeyService;
use super::cache::{CachedKey, VersionKey};
use super::keys::{WRAP_LABEL_VERSION, version_wrap_id};
use super::lifecycle::MAX_CONFLICT_RETRIES;
use crate::error::KmsError;
use crate::model::{KeyRecord, KeyState, VersionRecord};
use crate::random::uuid_v4;
use crate::secret::SecretBytes;
use crate::store::StoreError;

/// How often a rotation is retried after a concurrent update.
const MAX_ATTEMPTS: usize = MAX_CONFLICT_RETRIES;

impl KeyService {
    /// CreateKeyVersion: a new primary version for an Enabled key.
    pub async fn create_key_version(&self, key_id: &str) -> Result<VersionRecord, KmsError> {
        self.rotate(key_id, |k| match k.state {
            KeyState::Enabled => Ok(()),
            other => Err(KmsError::KeyStateRejected(other)),
        })
        .await
    }

    /// Makes a new primary version if `allowed` accepts the current record.
    pub(crate) async fn rotate<F>(
        &self,
        key_id: &str,
        allowed: F,
    ) -> Result<VersionRecord, KmsError>
    where
        F: Fn(&KeyRecord) -> Result<(), KmsError>,
    {
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .store
                .get_key(key_id)
                .await?
                .ok_or(KmsError::KeyNotFound)?;
            allowed(&current)?;
            let (record, version, material) = self.next_version(&current);
            match self.store.add_version(&record, &version).await {
                Ok(()) => {
                    let primary = Arc::new(VersionKey {
                        version_id: version.version_id.clone(),
                        key_id: key_id.to_owned(),
                        spec: record.spec,
                        material,
                    });
                    self.cache
                        .changed_key(Arc::new(CachedKey { record, primary }));
                    return Ok(version);
                }
                Err(StoreError::Conflict) => continue,
                Err(StoreError::NotFound) => return Err(KmsError::KeyNotFound),
                Err(e) => return Err(e.into()),
            }
        }
        Err(KmsError::Contended)
    }

    fn next_version(&self, current: &KeyRecord) -> (KeyRecord, VersionRecord, SecretBytes) {
        let now = self.clock.now();
        let version_id = uuid_v4(self.rng.as_ref());
        let mut material = SecretBytes::zeroed(current.spec.material_len());
        self.rng.fill(material.expose_secret_mut());
        let wrap_id = version_wrap_id(&current.key_id, &version_id);
        let wrapped = self.root.wrap(
            self.rng.as_ref(),
            WRAP_LABEL_VERSION,
            &wrap_id,
            material.expose_secret(),
        );
        let record = KeyRecord {
            primary_version: version_id.clone(),
            last_rotation_at: now,
            next_rotation_at: current.rotation_interval.map(|i| now + i),
            revision: current.revision + 1,
            ..current.clone()
        };
        let version = VersionRecord {
            version_id,
            key_id: current.key_id.clone(),
            created_at: now,
            wrapped_material: wrapped,
        };
        (record, version, material)
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
