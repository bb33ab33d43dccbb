//! The in-memory store's RAM identities (users, AccessKeys, custom policies, attachments)
//! and its replay nonces.

use async_trait::async_trait;
use openkms_core::{
    AccessKeyRecord, AttachmentRecord, IdentityStore, PolicyRecord, PolicyType, ReplayStore,
    StoreError, UserRecord,
};

use super::{Maps, MemoryStore};

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

    fn insert_access_key(&mut self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        if self.access.contains_key(&key.access_key_id) {
            return Err(StoreError::AlreadyExists);
        }
        self.access.insert(key.access_key_id.clone(), key.clone());
        Ok(())
    }
}

#[async_trait]
impl IdentityStore for MemoryStore {
    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        self.maps().insert_access_key(key)
    }

    async fn create_user_access_key(
        &self,
        key: &AccessKeyRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        let mut m = self.maps();
        if !m.users.contains_key(&key.user) {
            return Err(StoreError::ReferenceNotFound);
        }
        if m.access.values().filter(|x| x.user == key.user).count() >= max_per_user {
            return Err(StoreError::LimitExceeded);
        }
        m.insert_access_key(key)
    }

    async fn get_access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        Ok(self.maps().access.get(id).cloned())
    }

    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let mut m = self.maps();
        if m.users.contains_key(&user.user_name) {
            return Err(StoreError::AlreadyExists);
        }
        m.users.insert(user.user_name.clone(), user.clone());
        Ok(())
    }

    async fn get_user(&self, user_name: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.maps().users.get(user_name).cloned())
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        Ok(self.maps().users.values().cloned().collect())
    }

    async fn page_users(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let m = self.maps();
        Ok(after_name(&m.users, after).take(limit).cloned().collect())
    }

    async fn delete_user(&self, user_name: &str) -> Result<(), StoreError> {
        let mut m = self.maps();
        if !m.users.contains_key(user_name) {
            return Err(StoreError::NotFound);
        }
        if m.access.values().any(|k| k.user == user_name)
            || m.attached.keys().any(|k| k.0 == user_name)
        {
            return Err(StoreError::Conflict);
        }
        m.users.remove(user_name);
        m.logins.remove(user_name);
        Ok(())
    }

    async fn list_access_keys(&self, user_name: &str) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let m = self.maps();
        let mut v: Vec<_> = m
            .access
            .values()
            .filter(|k| k.user == user_name)
            .cloned()
            .collect();
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

    async fn create_policy(&self, policy: &PolicyRecord) -> Result<(), StoreError> {
        let mut m = self.maps();
        if m.policies.contains_key(&policy.policy_name) {
            return Err(StoreError::AlreadyExists);
        }
        m.policies
            .insert(policy.policy_name.clone(), policy.clone());
        Ok(())
    }

    async fn get_policy(&self, name: &str) -> Result<Option<PolicyRecord>, StoreError> {
        Ok(self.maps().policies.get(name).cloned())
    }

    async fn list_policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        Ok(self.maps().policies.values().cloned().collect())
    }

    async fn page_policies(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PolicyRecord>, StoreError> {
        let m = self.maps();
        Ok(after_name(&m.policies, after)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn delete_policy(&self, name: &str) -> Result<(), StoreError> {
        let mut m = self.maps();
        if !m.policies.contains_key(name) {
            return Err(StoreError::NotFound);
        }
        if m.attached
            .keys()
            .any(|k| k.1 == PolicyType::Custom && k.2 == name)
        {
            return Err(StoreError::Conflict);
        }
        m.policies.remove(name);
        Ok(())
    }

    async fn attach_policy(&self, a: &AttachmentRecord) -> Result<(), StoreError> {
        let mut m = self.maps();
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

#[async_trait]
impl ReplayStore for MemoryStore {
    async fn use_nonce(
        &self,
        ak: &str,
        nonce: &str,
        exp: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut m = self.maps();
        let slot = m
            .nonces
            .entry((ak.to_owned(), nonce.to_owned()))
            .or_insert(i64::MIN);
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
        Ok(u64::try_from(before - m.nonces.len()).unwrap_or(u64::MAX))
    }
}

/// The values of `map` whose names come after `after` (all when `None`), in name order.
fn after_name<'a, V>(
    map: &'a std::collections::BTreeMap<String, V>,
    after: Option<&str>,
) -> impl Iterator<Item = &'a V> {
    use std::ops::Bound;
    let start = match after {
        Some(name) => Bound::Excluded(name.to_owned()),
        None => Bound::Unbounded,
    };
    map.range((start, Bound::Unbounded)).map(|(_, v)| v)
}
