//! A minimal in-memory [`Store`] for the benchmarks: enough for a key service to open, create
//! keys and serve Encrypt and Decrypt. Copied in spirit from `tests/service.rs`; the write
//! paths the hot path never takes answer `Unavailable`, so a benchmark that strays onto them
//! fails loudly instead of measuring something else. RAM identities (users, policies,
//! attachments) are kept for real, since a signed request's authorization may read them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use openkms_core::{
    AccessKeyRecord, AliasRecord, AttachmentRecord, KeyRecord, PolicyRecord, PolicyType, Store,
    StoreError, Tag, UserRecord, VersionRecord,
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
    /// RAM users by name (a `BTreeMap`, so listed in byte order).
    users: BTreeMap<String, UserRecord>,
    /// Custom policies by name (listed in byte order).
    policies: BTreeMap<String, PolicyRecord>,
    /// Policy attachments by (user, policy type, policy name).
    attached: HashMap<(String, PolicyType, String), AttachmentRecord>,
}

impl MemStore {
    fn maps(&self) -> MutexGuard<'_, Maps> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Maps {
    /// The attachments `keep` selects, oldest first, then by type, policy and user name.
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

    /// A user is deleted only when it owns no AccessKey and holds no policy.
    fn delete_user(&mut self, n: &str) -> Result<(), StoreError> {
        if !self.users.contains_key(n) {
            return Err(StoreError::NotFound);
        }
        if self.access.values().any(|k| k.user == n) || self.attached.keys().any(|k| k.0 == n) {
            return Err(StoreError::Conflict);
        }
        self.users.remove(n);
        Ok(())
    }

    /// A custom policy is deleted only when nobody holds it.
    fn delete_policy(&mut self, n: &str) -> Result<(), StoreError> {
        if !self.policies.contains_key(n) {
            return Err(StoreError::NotFound);
        }
        if self
            .attached
            .keys()
            .any(|k| k.1 == PolicyType::Custom && k.2 == n)
        {
            return Err(StoreError::Conflict);
        }
        self.policies.remove(n);
        Ok(())
    }

    /// An attachment needs its user and, when custom, its policy.
    fn attach(&mut self, a: &AttachmentRecord) -> Result<(), StoreError> {
        let custom_missing =
            a.policy_type == PolicyType::Custom && !self.policies.contains_key(&a.policy_name);
        if !self.users.contains_key(&a.user_name) || custom_missing {
            return Err(StoreError::ReferenceNotFound);
        }
        let key = (a.user_name.clone(), a.policy_type, a.policy_name.clone());
        if self.attached.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        self.attached.insert(key, a.clone());
        Ok(())
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
    async fn create_user(&self, u: &UserRecord) -> Result<(), StoreError> {
        let mut m = self.maps();
        if m.users.contains_key(&u.user_name) {
            return Err(StoreError::AlreadyExists);
        }
        m.users.insert(u.user_name.clone(), u.clone());
        Ok(())
    }
    async fn get_user(&self, n: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.maps().users.get(n).cloned())
    }
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        Ok(self.maps().users.values().cloned().collect())
    }
    async fn delete_user(&self, n: &str) -> Result<(), StoreError> {
        self.maps().delete_user(n)
    }
    async fn list_access_keys(&self, n: &str) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let m = self.maps();
        let mut v: Vec<_> = m.access.values().filter(|k| k.user == n).cloned().collect();
        v.sort_by(|a, b| (a.created_at, &a.access_key_id).cmp(&(b.created_at, &b.access_key_id)));
        Ok(v)
    }
    async fn set_access_key_active(&self, id: &str, active: bool) -> Result<(), StoreError> {
        let mut m = self.maps();
        let key = m.access.get_mut(id).ok_or(StoreError::NotFound)?;
        key.active = active;
        Ok(())
    }
    async fn delete_access_key(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.maps().access.remove(id).is_some())
    }
    async fn create_policy(&self, p: &PolicyRecord) -> Result<(), StoreError> {
        let mut m = self.maps();
        if m.policies.contains_key(&p.policy_name) {
            return Err(StoreError::AlreadyExists);
        }
        m.policies.insert(p.policy_name.clone(), p.clone());
        Ok(())
    }
    async fn get_policy(&self, n: &str) -> Result<Option<PolicyRecord>, StoreError> {
        Ok(self.maps().policies.get(n).cloned())
    }
    async fn list_policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        Ok(self.maps().policies.values().cloned().collect())
    }
    async fn delete_policy(&self, n: &str) -> Result<(), StoreError> {
        self.maps().delete_policy(n)
    }
    async fn attach_policy(&self, a: &AttachmentRecord) -> Result<(), StoreError> {
        self.maps().attach(a)
    }
    async fn detach_policy(&self, u: &str, t: PolicyType, n: &str) -> Result<bool, StoreError> {
        let key = (u.to_owned(), t, n.to_owned());
        Ok(self.maps().attached.remove(&key).is_some())
    }
    async fn list_user_attachments(&self, u: &str) -> Result<Vec<AttachmentRecord>, StoreError> {
        Ok(self.maps().attachments(|a| a.user_name == u))
    }
    async fn list_policy_attachments(
        &self,
        t: PolicyType,
        n: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        Ok(self
            .maps()
            .attachments(|a| a.policy_type == t && a.policy_name == n))
    }
}
