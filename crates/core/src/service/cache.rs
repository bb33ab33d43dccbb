//! The in-memory cache that keeps the hot path off the store.
//!
//! It maps key ids to their records and unwrapped primary versions, version ids to unwrapped
//! material, and alias names to key ids. Material is held in [`SecretBytes`] and wiped when
//! the last reference goes. Entries are inserted after a durable write or a store read, and
//! replaced by the service whenever it changes a key, so a state change is seen by the very
//! next request. Loading from the store is the service's job, not the cache's.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::access::Credential;
use crate::model::{KeyRecord, KeySpec};
use crate::secret::SecretBytes;

/// One key version's unwrapped material.
#[derive(Debug)]
pub(crate) struct VersionKey {
    /// The version id.
    pub version_id: String,
    /// The owning key.
    pub key_id: String,
    /// The key's spec, which decides the cipher.
    pub spec: KeySpec,
    /// The unwrapped material.
    pub material: SecretBytes,
}

/// A key's record with its primary version ready for Encrypt.
#[derive(Debug)]
pub(crate) struct CachedKey {
    /// The key's record as last read or written.
    pub record: KeyRecord,
    /// The primary version.
    pub primary: Arc<VersionKey>,
}

/// The cache maps; each behind its own lock so readers rarely contend.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    keys: RwLock<HashMap<String, Arc<CachedKey>>>,
    versions: RwLock<HashMap<String, Arc<VersionKey>>>,
    aliases: RwLock<HashMap<String, String>>,
    credentials: RwLock<HashMap<String, Arc<Credential>>>,
}

impl KeyCache {
    pub fn key(&self, key_id: &str) -> Option<Arc<CachedKey>> {
        read(&self.keys).get(key_id).cloned()
    }

    pub fn put_key(&self, key: Arc<CachedKey>) {
        self.put_version(key.primary.clone());
        write(&self.keys).insert(key.record.key_id.clone(), key);
    }

    pub fn version(&self, version_id: &str) -> Option<Arc<VersionKey>> {
        read(&self.versions).get(version_id).cloned()
    }

    pub fn put_version(&self, version: Arc<VersionKey>) {
        write(&self.versions).insert(version.version_id.clone(), version);
    }

    pub fn alias(&self, name: &str) -> Option<String> {
        read(&self.aliases).get(name).cloned()
    }

    pub fn put_alias(&self, name: &str, key_id: &str) {
        write(&self.aliases).insert(name.to_owned(), key_id.to_owned());
    }

    pub fn credential(&self, access_key_id: &str) -> Option<Arc<Credential>> {
        read(&self.credentials).get(access_key_id).cloned()
    }

    pub fn put_credential(&self, credential: Arc<Credential>) {
        write(&self.credentials).insert(credential.access_key_id.clone(), credential);
    }
}

/// Reads through a lock; a poisoned lock still holds consistent data (writers only insert).
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
