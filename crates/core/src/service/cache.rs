//! The in-memory cache that keeps the hot path off the store.
//!
//! It maps key ids to their records and loaded primary versions, version ids to loaded keys
//! ([`LoadedKey`]: ready to seal and open, material never exposed), and alias names to key
//! ids. A software key's material is wiped when the last reference goes. Entries are inserted
//! after a durable write or a store read, and replaced by the service whenever it changes a
//! key, so a state change is seen by the very next request. Loading from the store is the
//! service's job, not the cache's.
//!
//! A load that read the store before a concurrent change must not put its stale result in the
//! cache after the change did. So every change bumps a generation counter (one for keys and
//! versions, one for aliases) before it updates the cache, and a loader caches what it read only
//! if the generation it saw before reading is still current.
//!
//! When several nodes share one store, a change made by another node is not seen here; a
//! bounded lifetime (`ttl_ms`) then makes key, alias and AccessKey entries expire so they are
//! read again. A single node needs no lifetime: every change passes through its own cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::access::Credential;
use crate::clock::Clock;
use crate::model::KeyRecord;
use crate::policy::Policy;
use crate::provider::LoadedKey;

/// One key version, loaded by the key provider. No `Debug`: it holds key material.
pub(crate) struct VersionKey {
    /// The version id.
    pub version_id: String,
    /// The owning key.
    pub key_id: String,
    /// The loaded key, which knows its spec.
    pub key: LoadedKey,
}

/// A key's record with its primary version ready for Encrypt. No `Debug`, like its version.
pub(crate) struct CachedKey {
    /// The key's record as last read or written.
    pub record: KeyRecord,
    /// The primary version; `None` for an EXTERNAL key whose material was never imported or
    /// was deleted.
    pub primary: Option<Arc<VersionKey>>,
    /// When an EXTERNAL key's imported material expires (seconds); checked on every use, so a
    /// cached key never serves material past its expiry.
    pub material_expire_at: Option<i64>,
}

impl CachedKey {
    /// A key of KMS-made material (always loaded, never expiring).
    pub fn made(record: KeyRecord, primary: Arc<VersionKey>) -> Self {
        Self {
            record,
            primary: Some(primary),
            material_expire_at: None,
        }
    }

    /// The state the key is in at `now`: its record's, except that an EXTERNAL key whose
    /// material expired is `PendingImport` (unless pending deletion), §4.6.
    pub fn state_at(&self, now: i64) -> crate::model::KeyState {
        super::imports::effective_state(&self.record, self.material_expire_at, now)
    }
}

/// The cache maps; each behind its own lock so readers rarely contend.
pub(crate) struct KeyCache {
    clock: Arc<dyn Clock>,
    /// How long key, alias and AccessKey entries stay valid, in milliseconds; `None`: forever.
    ttl_ms: Option<i64>,
    keys: RwLock<HashMap<String, Stamped<Arc<CachedKey>>>>,
    versions: RwLock<HashMap<String, Arc<VersionKey>>>,
    aliases: RwLock<HashMap<String, Stamped<String>>>,
    credentials: RwLock<HashMap<String, Stamped<Arc<Credential>>>>,
    /// Each user's parsed identity policies.
    grants: RwLock<HashMap<String, Stamped<Arc<[Policy]>>>>,
    key_generation: AtomicU64,
    grant_generation: AtomicU64,
    credential_generation: AtomicU64,
    alias_generation: AtomicU64,
    /// Key lookups answered from the cache, for metrics.
    hits: AtomicU64,
    /// Key lookups that had to read the store, for metrics.
    misses: AtomicU64,
}

/// A cached value with the time it was stored, in milliseconds.
type Stamped<T> = (T, i64);

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("ttl_ms", &self.ttl_ms)
            .finish_non_exhaustive()
    }
}

impl KeyCache {
    /// An empty cache whose entries live `ttl_ms` milliseconds (`None`: until changed).
    pub fn new(clock: Arc<dyn Clock>, ttl_ms: Option<i64>) -> Self {
        Self {
            clock,
            ttl_ms,
            keys: RwLock::default(),
            versions: RwLock::default(),
            aliases: RwLock::default(),
            credentials: RwLock::default(),
            grants: RwLock::default(),
            key_generation: AtomicU64::new(0),
            grant_generation: AtomicU64::new(0),
            credential_generation: AtomicU64::new(0),
            alias_generation: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn stamp<T>(&self, value: T) -> Stamped<T> {
        (value, self.clock.now_millis())
    }

    fn fresh<T: Clone>(&self, entry: Option<&Stamped<T>>) -> Option<T> {
        let (value, at) = entry?;
        let live = self
            .ttl_ms
            .is_none_or(|ttl| self.clock.now_millis() - at < ttl);
        live.then(|| value.clone())
    }

    /// The key generation, read before a store read whose result may be cached.
    pub fn key_generation(&self) -> u64 {
        self.key_generation.load(Ordering::SeqCst)
    }

    /// The alias generation, likewise.
    pub fn alias_generation(&self) -> u64 {
        self.alias_generation.load(Ordering::SeqCst)
    }

    /// Caches a key read from the store, unless a change happened since `generation`.
    pub fn put_loaded_key(&self, key: Arc<CachedKey>, generation: u64) {
        let mut keys = write(&self.keys);
        if self.key_generation() == generation {
            self.put_primary(&key);
            keys.insert(key.record.key_id.clone(), self.stamp(key));
        }
    }

    /// Caches a version read from the store, unless a change happened since `generation`.
    pub fn put_loaded_version(&self, version: Arc<VersionKey>, generation: u64) {
        let mut versions = write(&self.versions);
        if self.key_generation() == generation {
            versions.insert(version.version_id.clone(), version);
        }
    }

    /// Caches an alias read from the store, unless an alias changed since `generation`.
    pub fn put_loaded_alias(&self, name: &str, key_id: &str, generation: u64) {
        let mut aliases = write(&self.aliases);
        if self.alias_generation() == generation {
            aliases.insert(name.to_owned(), self.stamp(key_id.to_owned()));
        }
    }

    /// Records a durable change to a key: bumps the generation, then caches the new state.
    pub fn changed_key(&self, key: Arc<CachedKey>) {
        let mut keys = write(&self.keys);
        self.key_generation.fetch_add(1, Ordering::SeqCst);
        self.put_primary(&key);
        keys.insert(key.record.key_id.clone(), self.stamp(key));
    }

    /// Records that a key was destroyed: forgets it, its versions and its aliases.
    pub fn destroyed_key(&self, key_id: &str) {
        let mut keys = write(&self.keys);
        self.key_generation.fetch_add(1, Ordering::SeqCst);
        keys.remove(key_id);
        write(&self.versions).retain(|_, v| v.key_id != key_id);
        drop(keys);
        let mut aliases = write(&self.aliases);
        self.alias_generation.fetch_add(1, Ordering::SeqCst);
        aliases.retain(|_, (k, _)| k != key_id);
    }

    /// Records a durable change to an alias (`None`: deleted).
    pub fn changed_alias(&self, name: &str, key_id: Option<&str>) {
        let mut aliases = write(&self.aliases);
        self.alias_generation.fetch_add(1, Ordering::SeqCst);
        match key_id {
            Some(k) => aliases.insert(name.to_owned(), self.stamp(k.to_owned())),
            None => aliases.remove(name),
        };
    }

    pub fn key(&self, key_id: &str) -> Option<Arc<CachedKey>> {
        let found = self.fresh(read(&self.keys).get(key_id));
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Key lookups answered from the cache and from the store since start.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    pub fn version(&self, version_id: &str) -> Option<Arc<VersionKey>> {
        read(&self.versions).get(version_id).cloned()
    }

    /// Caches `key`'s primary version, or forgets it when the key has no material (it was
    /// deleted: a Decrypt must not find it here).
    fn put_primary(&self, key: &CachedKey) {
        match &key.primary {
            Some(primary) => self.put_version(primary.clone()),
            None => {
                write(&self.versions).remove(&key.record.primary_version);
            }
        }
    }

    pub fn put_version(&self, version: Arc<VersionKey>) {
        write(&self.versions).insert(version.version_id.clone(), version);
    }

    pub fn alias(&self, name: &str) -> Option<String> {
        self.fresh(read(&self.aliases).get(name))
    }

    pub fn credential(&self, access_key_id: &str) -> Option<Arc<Credential>> {
        self.fresh(read(&self.credentials).get(access_key_id))
    }

    /// The credential generation, read before an AccessKey is read from the store.
    pub fn credential_generation(&self) -> u64 {
        self.credential_generation.load(Ordering::SeqCst)
    }

    /// Caches an AccessKey read from the store, unless one was changed or deleted since
    /// `generation` (its read may predate the change).
    pub fn put_loaded_credential(&self, credential: Arc<Credential>, generation: u64) {
        let mut credentials = write(&self.credentials);
        if self.credential_generation() == generation {
            let stamped = self.stamp(credential);
            credentials.insert(stamped.0.access_key_id.clone(), stamped);
        }
    }

    /// Forgets an AccessKey that was changed or deleted, so no read that began before the
    /// change can put it back.
    pub fn forget_credential(&self, access_key_id: &str) {
        let mut credentials = write(&self.credentials);
        self.credential_generation.fetch_add(1, Ordering::SeqCst);
        credentials.remove(access_key_id);
    }

    /// A user's identity policies, if cached and fresh.
    pub fn grants(&self, user: &str) -> Option<Arc<[Policy]>> {
        self.fresh(read(&self.grants).get(user))
    }

    /// The grant generation, read before loading a user's policies from the store.
    pub fn grant_generation(&self) -> u64 {
        self.grant_generation.load(Ordering::SeqCst)
    }

    /// Caches a user's policies, unless an attachment or policy changed since `generation`.
    pub fn put_loaded_grants(&self, user: &str, policies: Arc<[Policy]>, generation: u64) {
        let mut grants = write(&self.grants);
        if self.grant_generation() == generation {
            grants.insert(user.to_owned(), self.stamp(policies));
        }
    }

    /// Records a durable change to policies or attachments: every user's entry is dropped.
    pub fn changed_grants(&self) {
        let mut grants = write(&self.grants);
        self.grant_generation.fetch_add(1, Ordering::SeqCst);
        grants.clear();
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
