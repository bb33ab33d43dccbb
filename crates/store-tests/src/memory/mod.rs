//! [`MemoryStore`]: every storage capability kept in maps in memory, held to the same
//! conformance suite as the real backends.
//!
//! For the key service's tests and benchmarks (openkms-core's `tests/` and `benches/`) and
//! for anything else that needs a [`openkms_core::Store`] without a database. One mutex
//! guards all maps, so every call is atomic and the concurrency checks hold trivially.
//! Clones share the same maps: reopening a store is cloning it, so nothing is durable past
//! the last clone. The identity and replay capabilities live in [`identity`], backup's
//! snapshots in [`snapshot`].

mod identity;
mod imports;
mod login;
mod rewrap;
mod secrets;
mod snapshot;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use openkms_core::store::{DestroyedVersion, tag_matches};
use openkms_core::{
    AccessKeyRecord, AliasRecord, AliasStore, AnchorStore, AttachmentRecord, AuditAnchor,
    KeyCursor, KeyRecord, KeySelection, KeyState, KeyStore, KeyTag, MetaStore, PolicyRecord,
    PolicyType, StoreError, Tag, TagCursor, TagStore, UserRecord, VersionRecord,
};

/// A store that keeps everything in maps; clones share them.
#[derive(Clone, Default)]
pub struct MemoryStore(Arc<Mutex<Maps>>);

/// Everything stored, keyed as the backends' primary keys are.
#[derive(Default)]
struct Maps {
    meta: HashMap<String, Vec<u8>>,
    keys: HashMap<String, KeyRecord>,
    versions: HashMap<String, VersionRecord>,
    /// Tombstones of destroyed versions, by version id.
    destroyed: BTreeMap<String, DestroyedVersion>,
    /// Tag key -> value per key id; a `BTreeMap` lists them in byte order.
    tags: HashMap<String, BTreeMap<String, String>>,
    aliases: BTreeMap<String, AliasRecord>,
    access: HashMap<String, AccessKeyRecord>,
    nonces: HashMap<(String, String), i64>,
    users: BTreeMap<String, UserRecord>,
    policies: BTreeMap<String, PolicyRecord>,
    attached: HashMap<(String, PolicyType, String), AttachmentRecord>,
    /// Login profiles by user name; a user's goes with it.
    logins: BTreeMap<String, openkms_core::LoginProfileRecord>,
    /// Secrets with their versions, stages and tags, by name.
    secrets: BTreeMap<String, secrets::SecretEntry>,
    /// EXTERNAL keys' import state, by key id; a key's goes with it.
    imports: BTreeMap<String, openkms_core::ImportRecord>,
}

impl MemoryStore {
    /// The maps, locked (a panic elsewhere while holding them leaves them usable).
    fn maps(&self) -> MutexGuard<'_, Maps> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Maps {
    /// The write rules of a new key and its first version, checked before anything is written.
    fn check_new_key(
        &self,
        key: &KeyRecord,
        version: &VersionRecord,
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        if version.key_id != key.key_id {
            return Err(StoreError::ReferenceNotFound);
        }
        let mut tag_keys = BTreeSet::new();
        if self.keys.contains_key(&key.key_id)
            || self.versions.contains_key(&version.version_id)
            || !tags.iter().all(|t| tag_keys.insert(&t.key))
        {
            return Err(StoreError::AlreadyExists);
        }
        Ok(())
    }

    /// The revision rule of [`KeyStore::update_key`].
    fn check_update(&self, key: &KeyRecord) -> Result<(), StoreError> {
        match self.keys.get(&key.key_id) {
            None => Err(StoreError::NotFound),
            Some(old) if key.revision.checked_sub(1) != Some(old.revision) => {
                Err(StoreError::Conflict)
            }
            Some(_) => Ok(()),
        }
    }

    fn sorted_keys(&self, keep: impl Fn(&KeyRecord) -> bool) -> Vec<KeyRecord> {
        let mut v: Vec<_> = self.keys.values().filter(|k| keep(k)).cloned().collect();
        v.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
        v
    }
}

/// Seconds since the epoch by the system clock (what the SQL backends' `now()` gives a
/// tombstone).
fn unix_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn is_due(k: &KeyRecord, now: i64) -> bool {
    (k.state == KeyState::PendingDeletion && k.delete_at.is_some_and(|d| d <= now))
        || (k.state == KeyState::Enabled && k.next_rotation_at.is_some_and(|n| n <= now))
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn create_key(
        &self,
        key: &KeyRecord,
        version: &VersionRecord,
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        let mut m = self.maps();
        m.check_new_key(key, version, tags)?;
        m.keys.insert(key.key_id.clone(), key.clone());
        m.versions
            .insert(version.version_id.clone(), version.clone());
        let tags = tags.iter().map(|t| (t.key.clone(), t.value.clone()));
        m.tags.insert(key.key_id.clone(), tags.collect());
        Ok(())
    }

    async fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self.maps().keys.get(key_id).cloned())
    }

    async fn get_version(&self, version_id: &str) -> Result<Option<VersionRecord>, StoreError> {
        Ok(self.maps().versions.get(version_id).cloned())
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        let m = self.maps();
        Ok(m.keys.is_empty() && m.access.is_empty())
    }

    async fn update_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let mut m = self.maps();
        m.check_update(key)?;
        m.keys.insert(key.key_id.clone(), key.clone());
        Ok(())
    }

    async fn add_version(
        &self,
        key: &KeyRecord,
        version: &VersionRecord,
    ) -> Result<(), StoreError> {
        let mut m = self.maps();
        if version.key_id != key.key_id {
            return Err(StoreError::ReferenceNotFound);
        }
        m.check_update(key)?;
        if m.versions.contains_key(&version.version_id) {
            return Err(StoreError::AlreadyExists);
        }
        m.keys.insert(key.key_id.clone(), key.clone());
        m.versions
            .insert(version.version_id.clone(), version.clone());
        Ok(())
    }

    async fn list_versions(&self, key_id: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let m = self.maps();
        let mut v: Vec<_> = m
            .versions
            .values()
            .filter(|v| v.key_id == key_id)
            .cloned()
            .collect();
        v.sort_by(|a, b| (a.created_at, &a.version_id).cmp(&(b.created_at, &b.version_id)));
        Ok(v)
    }

    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        Ok(self.maps().sorted_keys(|_| true))
    }

    async fn page_keys(
        &self,
        selection: &KeySelection,
        after: Option<&KeyCursor>,
        limit: usize,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let past = |k: &KeyRecord| after.is_none_or(|c| c.precedes(k));
        let keys = self.maps().sorted_keys(|k| selection.matches(k) && past(k));
        Ok(keys.into_iter().take(limit).collect())
    }

    async fn count_keys(&self, selection: &KeySelection) -> Result<u64, StoreError> {
        let m = self.maps();
        Ok(m.keys.values().filter(|k| selection.matches(k)).count() as u64)
    }

    async fn key_cursor_at(
        &self,
        selection: &KeySelection,
        index: u64,
    ) -> Result<Option<KeyCursor>, StoreError> {
        let keys = self.maps().sorted_keys(|k| selection.matches(k));
        let at = usize::try_from(index).ok().and_then(|i| keys.get(i));
        Ok(at.map(KeyCursor::after))
    }

    async fn due_keys(&self, now: i64) -> Result<Vec<KeyRecord>, StoreError> {
        Ok(self.maps().sorted_keys(|k| is_due(k, now)))
    }

    async fn destroy_key(&self, key_id: &str) -> Result<(), StoreError> {
        let mut m = self.maps();
        m.keys.remove(key_id).ok_or(StoreError::NotFound)?;
        let gone: Vec<String> = m
            .versions
            .values()
            .filter(|v| v.key_id == key_id)
            .map(|v| v.version_id.clone())
            .collect();
        let destroyed_at = unix_now();
        for version_id in gone {
            m.versions.remove(&version_id);
            let tombstone = DestroyedVersion {
                version_id: version_id.clone(),
                key_id: key_id.to_owned(),
                destroyed_at,
            };
            m.destroyed.entry(version_id).or_insert(tombstone);
        }
        m.aliases.retain(|_, a| a.key_id != key_id);
        m.tags.remove(key_id);
        m.imports.remove(key_id);
        Ok(())
    }

    async fn is_destroyed_version(&self, version_id: &str) -> Result<bool, StoreError> {
        Ok(self.maps().destroyed.contains_key(version_id))
    }
}

#[async_trait]
impl AliasStore for MemoryStore {
    async fn create_alias(&self, alias: &AliasRecord) -> Result<(), StoreError> {
        let mut m = self.maps();
        if m.aliases.contains_key(&alias.name) {
            return Err(StoreError::AlreadyExists);
        }
        if !m.keys.contains_key(&alias.key_id) {
            return Err(StoreError::ReferenceNotFound);
        }
        m.aliases.insert(alias.name.clone(), alias.clone());
        Ok(())
    }

    async fn get_alias(&self, name: &str) -> Result<Option<AliasRecord>, StoreError> {
        Ok(self.maps().aliases.get(name).cloned())
    }

    async fn list_aliases(&self, key_id: Option<&str>) -> Result<Vec<AliasRecord>, StoreError> {
        let m = self.maps();
        let of_key = |a: &&AliasRecord| key_id.is_none_or(|k| a.key_id == k);
        Ok(m.aliases.values().filter(of_key).cloned().collect())
    }

    async fn page_aliases(
        &self,
        key_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AliasRecord>, StoreError> {
        let all = self.list_aliases(key_id).await?;
        let past = |a: &AliasRecord| after.is_none_or(|n| a.name.as_str() > n);
        Ok(all.into_iter().filter(past).take(limit).collect())
    }

    async fn count_aliases(&self, key_id: Option<&str>) -> Result<u64, StoreError> {
        Ok(self.list_aliases(key_id).await?.len() as u64)
    }

    async fn alias_name_at(
        &self,
        key_id: Option<&str>,
        index: u64,
    ) -> Result<Option<String>, StoreError> {
        let all = self.list_aliases(key_id).await?;
        let at = usize::try_from(index).ok().and_then(|i| all.get(i));
        Ok(at.map(|a| a.name.clone()))
    }

    async fn update_alias(&self, alias: &AliasRecord) -> Result<(), StoreError> {
        let mut m = self.maps();
        if !m.aliases.contains_key(&alias.name) {
            return Err(StoreError::NotFound);
        }
        if !m.keys.contains_key(&alias.key_id) {
            return Err(StoreError::ReferenceNotFound);
        }
        m.aliases.insert(alias.name.clone(), alias.clone());
        Ok(())
    }

    async fn delete_alias(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.maps().aliases.remove(name).is_some())
    }
}

#[async_trait]
impl TagStore for MemoryStore {
    async fn list_tags(&self, key_id: &str) -> Result<Vec<Tag>, StoreError> {
        let m = self.maps();
        let tags = m.tags.get(key_id).into_iter().flatten();
        let tag = |(key, value): (&String, &String)| Tag {
            key: key.clone(),
            value: value.clone(),
        };
        Ok(tags.map(tag).collect())
    }

    async fn page_tags(
        &self,
        filter: Option<&Tag>,
        after: Option<&TagCursor>,
        limit: usize,
    ) -> Result<Vec<KeyTag>, StoreError> {
        let m = self.maps();
        let mut rows: Vec<KeyTag> = m
            .tags
            .iter()
            .flat_map(|(key_id, tags)| {
                tags.iter().map(move |(k, v)| KeyTag {
                    key_id: key_id.clone(),
                    tag: Tag {
                        key: k.clone(),
                        value: v.clone(),
                    },
                })
            })
            .filter(|r| filter.is_none_or(|f| tag_matches(f, &r.tag)))
            .filter(|r| after.is_none_or(|c| c.precedes(r)))
            .collect();
        rows.sort_by(|a, b| (&a.key_id, &a.tag.key).cmp(&(&b.key_id, &b.tag.key)));
        rows.truncate(limit);
        Ok(rows)
    }

    async fn put_tags(
        &self,
        key_id: &str,
        tags: &[Tag],
        max_tags: usize,
    ) -> Result<(), StoreError> {
        let mut m = self.maps();
        if !m.keys.contains_key(key_id) {
            return Err(StoreError::ReferenceNotFound);
        }
        let mut merged = m.tags.get(key_id).cloned().unwrap_or_default();
        merged.extend(tags.iter().map(|t| (t.key.clone(), t.value.clone())));
        if merged.len() > max_tags {
            return Err(StoreError::LimitExceeded);
        }
        m.tags.insert(key_id.to_owned(), merged);
        Ok(())
    }

    async fn delete_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError> {
        if let Some(tags) = self.maps().tags.get_mut(key_id) {
            tags.retain(|key, _| !tag_keys.contains(key));
        }
        Ok(())
    }
}

#[async_trait]
impl MetaStore for MemoryStore {
    async fn get_meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.maps().meta.get(name).cloned())
    }

    async fn put_meta_if_absent(&self, name: &str, value: &[u8]) -> Result<bool, StoreError> {
        let mut m = self.maps();
        if m.meta.contains_key(name) {
            return Ok(false);
        }
        m.meta.insert(name.to_owned(), value.to_owned());
        Ok(true)
    }

    async fn replace_meta_if(
        &self,
        name: &str,
        expected: &[u8],
        value: &[u8],
    ) -> Result<bool, StoreError> {
        let mut m = self.maps();
        match m.meta.get_mut(name) {
            Some(current) if current.as_slice() == expected => {
                *current = value.to_owned();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl AnchorStore for MemoryStore {
    async fn audit_anchor(&self, node: &str) -> Result<Option<AuditAnchor>, StoreError> {
        let value = self.maps().meta.get(&AuditAnchor::meta_name(node)).cloned();
        value
            .map(|bytes| AuditAnchor::from_meta(&bytes))
            .transpose()
    }

    async fn set_audit_anchor(&self, node: &str, anchor: &AuditAnchor) -> Result<(), StoreError> {
        let name = AuditAnchor::meta_name(node);
        self.maps().meta.insert(name, anchor.to_meta());
        Ok(())
    }
}
