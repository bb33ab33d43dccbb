//! A minimal in-memory [`Store`] for the benchmarks: enough for a key service to open, create
//! keys and serve Encrypt and Decrypt. Copied in spirit from `tests/service.rs`; the write
//! paths the hot path never takes answer `Unavailable`, so a benchmark that strays onto them
//! fails loudly instead of measuring something else.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use openkms_core::{
    AccessKeyRecord, AliasRecord, KeyRecord, Store, StoreError, Tag, VersionRecord,
};

/// Records in maps behind one lock.
#[derive(Default)]
pub struct MemStore(Mutex<Maps>);

#[derive(Default)]
struct Maps {
    meta: HashMap<String, Vec<u8>>,
    keys: HashMap<String, KeyRecord>,
    versions: HashMap<String, VersionRecord>,
    aliases: HashMap<String, AliasRecord>,
    access: HashMap<String, AccessKeyRecord>,
    /// Used nonces and their expiry, in case a benchmark signs requests.
    nonces: HashMap<(String, String), i64>,
}

impl MemStore {
    fn maps(&self) -> MutexGuard<'_, Maps> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The answer of every method the benchmarks do not need.
fn not_here<T>() -> Result<T, StoreError> {
    Err(StoreError::Unavailable(
        "not implemented by the bench store".into(),
    ))
}

#[async_trait]
impl Store for MemStore {
    async fn get_meta(&self, n: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.maps().meta.get(n).cloned())
    }
    async fn put_meta_if_absent(&self, n: &str, v: &[u8]) -> Result<bool, StoreError> {
        let mut m = self.maps();
        if m.meta.contains_key(n) {
            return Ok(false);
        }
        m.meta.insert(n.into(), v.into());
        Ok(true)
    }
    async fn create_key(
        &self,
        k: &KeyRecord,
        v: &VersionRecord,
        _: &[Tag],
    ) -> Result<(), StoreError> {
        let mut m = self.maps();
        m.keys.insert(k.key_id.clone(), k.clone());
        m.versions.insert(v.version_id.clone(), v.clone());
        Ok(())
    }
    async fn get_key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self.maps().keys.get(id).cloned())
    }
    async fn get_version(&self, id: &str) -> Result<Option<VersionRecord>, StoreError> {
        Ok(self.maps().versions.get(id).cloned())
    }
    async fn list_tags(&self, _: &str) -> Result<Vec<Tag>, StoreError> {
        Ok(Vec::new())
    }
    async fn create_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        self.maps().aliases.insert(a.name.clone(), a.clone());
        Ok(())
    }
    async fn get_alias(&self, n: &str) -> Result<Option<AliasRecord>, StoreError> {
        Ok(self.maps().aliases.get(n).cloned())
    }
    async fn create_access_key(&self, k: &AccessKeyRecord) -> Result<(), StoreError> {
        self.maps()
            .access
            .insert(k.access_key_id.clone(), k.clone());
        Ok(())
    }
    async fn get_access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        Ok(self.maps().access.get(id).cloned())
    }
    async fn is_empty(&self) -> Result<bool, StoreError> {
        let m = self.maps();
        Ok(m.keys.is_empty() && m.access.is_empty())
    }
    async fn update_key(&self, _: &KeyRecord) -> Result<(), StoreError> {
        not_here()
    }
    async fn add_version(&self, _: &KeyRecord, _: &VersionRecord) -> Result<(), StoreError> {
        not_here()
    }
    async fn list_versions(&self, _: &str) -> Result<Vec<VersionRecord>, StoreError> {
        not_here()
    }
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        not_here()
    }
    async fn due_keys(&self, _: i64) -> Result<Vec<KeyRecord>, StoreError> {
        not_here()
    }
    async fn list_aliases(&self, _: Option<&str>) -> Result<Vec<AliasRecord>, StoreError> {
        not_here()
    }
    async fn update_alias(&self, _: &AliasRecord) -> Result<(), StoreError> {
        not_here()
    }
    async fn delete_alias(&self, _: &str) -> Result<bool, StoreError> {
        not_here()
    }
    async fn put_tags(&self, _: &str, _: &[Tag]) -> Result<(), StoreError> {
        not_here()
    }
    async fn delete_tags(&self, _: &str, _: &[String]) -> Result<(), StoreError> {
        not_here()
    }
    async fn destroy_key(&self, _: &str) -> Result<(), StoreError> {
        not_here()
    }
    async fn is_destroyed_version(&self, _: &str) -> Result<bool, StoreError> {
        Ok(false)
    }
    async fn use_nonce(&self, ak: &str, n: &str, exp: i64, now: i64) -> Result<bool, StoreError> {
        let mut m = self.maps();
        let slot = m.nonces.entry((ak.into(), n.into())).or_insert(i64::MIN);
        if *slot >= now {
            return Ok(false);
        }
        *slot = exp;
        Ok(true)
    }
    async fn purge_nonces(&self, now: i64) -> Result<u64, StoreError> {
        let mut m = self.maps();
        let before = m.nonces.len();
        m.nonces.retain(|_, exp| *exp >= now);
        Ok((before - m.nonces.len()) as u64)
    }
}
