//! An in-memory [`Store`] that keeps everything in maps and honours the store contract: enough
//! for the service tests (`tests/service.rs`) and the benchmarks (`benches/support`), which
//! include this file. Backends have their own conformance suite; this one is not a backend.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use openkms_core::{
    AccessKeyRecord, AliasRecord, AttachmentRecord, KeyRecord, KeyState, PolicyRecord, PolicyType,
    Store, StoreError, Tag, UserRecord, VersionRecord,
};

/// A store that keeps everything in maps; enough for service tests.
#[derive(Default)]
pub struct MemStore(Mutex<Maps>);

#[derive(Default)]
struct Maps {
    meta: HashMap<String, Vec<u8>>,
    keys: HashMap<String, KeyRecord>,
    versions: HashMap<String, VersionRecord>,
    tags: HashMap<String, Vec<Tag>>,
    aliases: HashMap<String, AliasRecord>,
    access: HashMap<String, AccessKeyRecord>,
    nonces: HashMap<(String, String), i64>,
    users: BTreeMap<String, UserRecord>,
    policies: BTreeMap<String, PolicyRecord>,
    attached: HashMap<(String, PolicyType, String), AttachmentRecord>,
}

impl Maps {
    fn attachments(&self, keep: impl Fn(&AttachmentRecord) -> bool) -> Vec<AttachmentRecord> {
        fn order(x: &AttachmentRecord) -> (i64, &str, &str, &str) {
            let kind = x.policy_type.as_str();
            (x.attached_at, kind, &x.policy_name, &x.user_name)
        }
        let mut v: Vec<_> = self
            .attached
            .values()
            .filter(|a| keep(a))
            .cloned()
            .collect();
        v.sort_by(|a, b| order(a).cmp(&order(b)));
        v
    }
}

#[async_trait]
impl Store for MemStore {
    async fn get_meta(&self, n: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.lock().unwrap().meta.get(n).cloned())
    }
    async fn put_meta_if_absent(&self, n: &str, v: &[u8]) -> Result<bool, StoreError> {
        let mut m = self.0.lock().unwrap();
        Ok(m.meta.insert(n.into(), v.into()).is_none())
    }
    async fn create_key(
        &self,
        k: &KeyRecord,
        v: &VersionRecord,
        t: &[Tag],
    ) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        m.keys.insert(k.key_id.clone(), k.clone());
        m.versions.insert(v.version_id.clone(), v.clone());
        m.tags.insert(k.key_id.clone(), t.to_vec());
        Ok(())
    }
    async fn get_key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self.0.lock().unwrap().keys.get(id).cloned())
    }
    async fn get_version(&self, id: &str) -> Result<Option<VersionRecord>, StoreError> {
        Ok(self.0.lock().unwrap().versions.get(id).cloned())
    }
    async fn list_tags(&self, id: &str) -> Result<Vec<Tag>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .tags
            .get(id)
            .cloned()
            .unwrap_or_default())
    }
    async fn create_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if m.aliases.contains_key(&a.name) {
            return Err(StoreError::AlreadyExists);
        }
        m.aliases.insert(a.name.clone(), a.clone());
        Ok(())
    }
    async fn get_alias(&self, n: &str) -> Result<Option<AliasRecord>, StoreError> {
        Ok(self.0.lock().unwrap().aliases.get(n).cloned())
    }
    async fn create_access_key(&self, k: &AccessKeyRecord) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .access
            .insert(k.access_key_id.clone(), k.clone());
        Ok(())
    }
    async fn create_user_access_key(
        &self,
        k: &AccessKeyRecord,
        max: usize,
    ) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if !m.users.contains_key(&k.user) {
            return Err(StoreError::ReferenceNotFound);
        }
        if m.access.values().filter(|x| x.user == k.user).count() >= max {
            return Err(StoreError::LimitExceeded);
        }
        if m.access.contains_key(&k.access_key_id) {
            return Err(StoreError::AlreadyExists);
        }
        m.access.insert(k.access_key_id.clone(), k.clone());
        Ok(())
    }
    async fn get_access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        Ok(self.0.lock().unwrap().access.get(id).cloned())
    }
    async fn is_empty(&self) -> Result<bool, StoreError> {
        let m = self.0.lock().unwrap();
        Ok(m.keys.is_empty() && m.access.is_empty())
    }
    async fn update_key(&self, k: &KeyRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        match m.keys.get(&k.key_id) {
            None => Err(StoreError::NotFound),
            Some(old) if old.revision != k.revision - 1 => Err(StoreError::Conflict),
            Some(_) => {
                m.keys.insert(k.key_id.clone(), k.clone());
                Ok(())
            }
        }
    }
    async fn add_version(&self, k: &KeyRecord, v: &VersionRecord) -> Result<(), StoreError> {
        self.update_key(k).await?;
        self.0
            .lock()
            .unwrap()
            .versions
            .insert(v.version_id.clone(), v.clone());
        Ok(())
    }
    async fn list_versions(&self, id: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let m = self.0.lock().unwrap();
        let mut v: Vec<_> = m
            .versions
            .values()
            .filter(|v| v.key_id == id)
            .cloned()
            .collect();
        v.sort_by(|a, b| (a.created_at, &a.version_id).cmp(&(b.created_at, &b.version_id)));
        Ok(v)
    }
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let mut v: Vec<_> = self.0.lock().unwrap().keys.values().cloned().collect();
        v.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
        Ok(v)
    }
    async fn due_keys(&self, now: i64) -> Result<Vec<KeyRecord>, StoreError> {
        let keys = self.list_keys().await?;
        Ok(keys
            .into_iter()
            .filter(|k| {
                (k.state == KeyState::PendingDeletion && k.delete_at.is_some_and(|d| d <= now))
                    || (k.state == KeyState::Enabled
                        && k.next_rotation_at.is_some_and(|n| n <= now))
            })
            .collect())
    }
    async fn list_aliases(&self, key: Option<&str>) -> Result<Vec<AliasRecord>, StoreError> {
        let m = self.0.lock().unwrap();
        let mut v: Vec<_> = m
            .aliases
            .values()
            .filter(|a| key.is_none_or(|k| a.key_id == k))
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }
    async fn update_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if !m.aliases.contains_key(&a.name) {
            return Err(StoreError::NotFound);
        }
        m.aliases.insert(a.name.clone(), a.clone());
        Ok(())
    }
    async fn delete_alias(&self, n: &str) -> Result<bool, StoreError> {
        Ok(self.0.lock().unwrap().aliases.remove(n).is_some())
    }
    async fn put_tags(&self, id: &str, t: &[Tag], max: usize) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if !m.keys.contains_key(id) {
            return Err(StoreError::ReferenceNotFound);
        }
        let mut tags = m.tags.get(id).cloned().unwrap_or_default();
        for tag in t {
            tags.retain(|x| x.key != tag.key);
            tags.push(tag.clone());
        }
        if tags.len() > max {
            return Err(StoreError::LimitExceeded);
        }
        tags.sort_by(|a, b| a.key.cmp(&b.key));
        m.tags.insert(id.into(), tags);
        Ok(())
    }
    async fn delete_tags(&self, id: &str, keys: &[String]) -> Result<(), StoreError> {
        if let Some(tags) = self.0.lock().unwrap().tags.get_mut(id) {
            tags.retain(|t| !keys.contains(&t.key));
        }
        Ok(())
    }
    async fn destroy_key(&self, id: &str) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        m.keys.remove(id).ok_or(StoreError::NotFound)?;
        let gone: Vec<String> = m
            .versions
            .values()
            .filter(|v| v.key_id == id)
            .map(|v| v.version_id.clone())
            .collect();
        for v in &gone {
            m.versions.remove(v);
            m.meta.insert(format!("destroyed/{v}"), vec![]);
        }
        m.aliases.retain(|_, a| a.key_id != id);
        m.tags.remove(id);
        Ok(())
    }
    async fn is_destroyed_version(&self, v: &str) -> Result<bool, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .meta
            .contains_key(&format!("destroyed/{v}")))
    }
    async fn use_nonce(&self, ak: &str, n: &str, exp: i64, now: i64) -> Result<bool, StoreError> {
        let mut m = self.0.lock().unwrap();
        let slot = m.nonces.entry((ak.into(), n.into())).or_insert(i64::MIN);
        if *slot >= now {
            return Ok(false);
        }
        *slot = exp;
        Ok(true)
    }
    async fn purge_nonces(&self, now: i64) -> Result<u64, StoreError> {
        let mut m = self.0.lock().unwrap();
        let before = m.nonces.len();
        m.nonces.retain(|_, exp| *exp >= now);
        Ok((before - m.nonces.len()) as u64)
    }
    async fn create_user(&self, u: &UserRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if m.users.contains_key(&u.user_name) {
            return Err(StoreError::AlreadyExists);
        }
        m.users.insert(u.user_name.clone(), u.clone());
        Ok(())
    }
    async fn get_user(&self, n: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.0.lock().unwrap().users.get(n).cloned())
    }
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        Ok(self.0.lock().unwrap().users.values().cloned().collect())
    }
    async fn delete_user(&self, n: &str) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if !m.users.contains_key(n) {
            return Err(StoreError::NotFound);
        }
        if m.access.values().any(|k| k.user == n) || m.attached.keys().any(|k| k.0 == n) {
            return Err(StoreError::Conflict);
        }
        m.users.remove(n);
        Ok(())
    }
    async fn list_access_keys(&self, n: &str) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let m = self.0.lock().unwrap();
        let mut v: Vec<_> = m.access.values().filter(|k| k.user == n).cloned().collect();
        v.sort_by(|a, b| (a.created_at, &a.access_key_id).cmp(&(b.created_at, &b.access_key_id)));
        Ok(v)
    }
    async fn set_access_key_active(&self, id: &str, active: bool) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        let key = m.access.get_mut(id).ok_or(StoreError::NotFound)?;
        key.active = active;
        Ok(())
    }
    async fn delete_access_key(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.0.lock().unwrap().access.remove(id).is_some())
    }
    async fn create_policy(&self, p: &PolicyRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if m.policies.contains_key(&p.policy_name) {
            return Err(StoreError::AlreadyExists);
        }
        m.policies.insert(p.policy_name.clone(), p.clone());
        Ok(())
    }
    async fn get_policy(&self, n: &str) -> Result<Option<PolicyRecord>, StoreError> {
        Ok(self.0.lock().unwrap().policies.get(n).cloned())
    }
    async fn list_policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        Ok(self.0.lock().unwrap().policies.values().cloned().collect())
    }
    async fn delete_policy(&self, n: &str) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if !m.policies.contains_key(n) {
            return Err(StoreError::NotFound);
        }
        if m.attached
            .keys()
            .any(|k| k.1 == PolicyType::Custom && k.2 == n)
        {
            return Err(StoreError::Conflict);
        }
        m.policies.remove(n);
        Ok(())
    }
    async fn attach_policy(&self, a: &AttachmentRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        let custom_missing =
            a.policy_type == PolicyType::Custom && !m.policies.contains_key(&a.policy_name);
        if !m.users.contains_key(&a.user_name) || custom_missing {
            return Err(StoreError::ReferenceNotFound);
        }
        let key = (a.user_name.clone(), a.policy_type, a.policy_name.clone());
        if m.attached.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        m.attached.insert(key, a.clone());
        Ok(())
    }
    async fn detach_policy(&self, u: &str, t: PolicyType, n: &str) -> Result<bool, StoreError> {
        let key = (u.to_owned(), t, n.to_owned());
        Ok(self.0.lock().unwrap().attached.remove(&key).is_some())
    }
    async fn list_user_attachments(&self, u: &str) -> Result<Vec<AttachmentRecord>, StoreError> {
        Ok(self.0.lock().unwrap().attachments(|a| a.user_name == u))
    }
    async fn list_policy_attachments(
        &self,
        t: PolicyType,
        n: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        let m = self.0.lock().unwrap();
        Ok(m.attachments(|a| a.policy_type == t && a.policy_name == n))
    }
}
