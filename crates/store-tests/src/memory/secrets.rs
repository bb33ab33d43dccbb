//! The in-memory store's [`SecretStore`]: each secret with its versions, stages and tags in
//! one entry of one map, changed under the store's one lock (so a change is atomic), and
//! checked against the same rules the SQL backends' constraints and revision checks enforce.

use std::collections::BTreeMap;

use async_trait::async_trait;
use openkms_core::{
    SecretChange, SecretRecord, SecretStage, SecretStore, SecretTag, SecretVersion, StoreError,
    StoredSecretVersion, Tag,
};

use super::{Maps, MemoryStore};

/// One secret and everything that belongs to it.
#[derive(Clone)]
pub(super) struct SecretEntry {
    record: SecretRecord,
    /// Versions by version id.
    versions: BTreeMap<String, StoredSecretVersion>,
    /// Version id by stage label.
    stages: BTreeMap<String, String>,
    /// Tag value by tag key.
    tags: BTreeMap<String, String>,
}

impl SecretEntry {
    /// The versions oldest first, as the backends order them.
    fn versions_oldest_first(&self) -> Vec<SecretVersion> {
        let mut v: Vec<_> = self.versions.values().map(|s| s.version.clone()).collect();
        v.sort_by(|a, b| (a.created_at, &a.version_id).cmp(&(b.created_at, &b.version_id)));
        v
    }

    /// The stage rows of the entry, by label.
    fn stage_rows(&self) -> Vec<SecretStage> {
        let name = &self.record.name;
        self.stages
            .iter()
            .map(|(stage, version)| stage_row(name, stage, version))
            .collect()
    }
}

fn stage_row(name: &str, stage: &str, version: &str) -> SecretStage {
    SecretStage {
        secret_name: name.to_owned(),
        stage: stage.to_owned(),
        version_id: version.to_owned(),
    }
}

/// The stages as a map, checking every label once and naming a kept version.
fn stage_map(
    name: &str,
    stages: &[SecretStage],
    versions: &BTreeMap<String, StoredSecretVersion>,
) -> Result<BTreeMap<String, String>, StoreError> {
    let mut map = BTreeMap::new();
    for s in stages {
        if s.secret_name != name || !versions.contains_key(&s.version_id) {
            return Err(StoreError::ReferenceNotFound);
        }
        if map.insert(s.stage.clone(), s.version_id.clone()).is_some() {
            return Err(StoreError::AlreadyExists);
        }
    }
    Ok(map)
}

/// The entry after `change`, or the error the backends give (nothing changed).
fn changed(entry: &SecretEntry, change: &SecretChange) -> Result<SecretEntry, StoreError> {
    if change.secret.revision.checked_sub(1) != Some(entry.record.revision) {
        return Err(StoreError::Conflict);
    }
    let mut next = entry.clone();
    next.record = change.secret.clone();
    for id in &change.dropped {
        next.versions.remove(id);
    }
    if let Some(added) = &change.added {
        if added.version.secret_name != entry.record.name {
            return Err(StoreError::ReferenceNotFound);
        }
        if next.versions.contains_key(&added.version.version_id) {
            return Err(StoreError::AlreadyExists);
        }
        next.versions
            .insert(added.version.version_id.clone(), added.clone());
    }
    next.stages = stage_map(&entry.record.name, &change.stages, &next.versions)?;
    Ok(next)
}

impl Maps {
    /// The secrets' rows as a snapshot holds them.
    pub(super) fn secret_rows(
        &self,
    ) -> (
        Vec<SecretRecord>,
        Vec<StoredSecretVersion>,
        Vec<SecretStage>,
        Vec<SecretTag>,
    ) {
        let entries = self.secrets.values();
        let records = entries.clone().map(|e| e.record.clone()).collect();
        let versions = entries
            .clone()
            .flat_map(|e| e.versions.values().cloned())
            .collect();
        let stages = entries.clone().flat_map(SecretEntry::stage_rows).collect();
        let tags = entries
            .flat_map(|e| {
                e.tags.iter().map(|(k, v)| SecretTag {
                    secret_name: e.record.name.clone(),
                    tag: Tag {
                        key: k.clone(),
                        value: v.clone(),
                    },
                })
            })
            .collect();
        (records, versions, stages, tags)
    }

    /// Writes a snapshot's secrets (into an empty store), checking what the SQL constraints
    /// check: unique names, and versions, stages and tags of secrets the snapshot holds.
    pub(super) fn import_secrets(
        &mut self,
        s: &openkms_core::Snapshot,
    ) -> Result<BTreeMap<String, SecretEntry>, StoreError> {
        let mut out: BTreeMap<String, SecretEntry> = BTreeMap::new();
        for r in &s.secrets {
            let entry = SecretEntry {
                record: r.clone(),
                versions: BTreeMap::new(),
                stages: BTreeMap::new(),
                tags: BTreeMap::new(),
            };
            if out.insert(r.name.clone(), entry).is_some() {
                return Err(StoreError::AlreadyExists);
            }
        }
        for v in &s.secret_versions {
            let e = out
                .get_mut(&v.version.secret_name)
                .ok_or(StoreError::ReferenceNotFound)?;
            if e.versions
                .insert(v.version.version_id.clone(), v.clone())
                .is_some()
            {
                return Err(StoreError::AlreadyExists);
            }
        }
        for st in &s.secret_stages {
            let e = out
                .get_mut(&st.secret_name)
                .ok_or(StoreError::ReferenceNotFound)?;
            if !e.versions.contains_key(&st.version_id) {
                return Err(StoreError::ReferenceNotFound);
            }
            if e.stages
                .insert(st.stage.clone(), st.version_id.clone())
                .is_some()
            {
                return Err(StoreError::AlreadyExists);
            }
        }
        for t in &s.secret_tags {
            let e = out
                .get_mut(&t.secret_name)
                .ok_or(StoreError::ReferenceNotFound)?;
            if e.tags
                .insert(t.tag.key.clone(), t.tag.value.clone())
                .is_some()
            {
                return Err(StoreError::AlreadyExists);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl SecretStore for MemoryStore {
    async fn create_secret(
        &self,
        secret: &SecretRecord,
        first: &StoredSecretVersion,
        stages: &[SecretStage],
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        let mut m = self.maps();
        if m.secrets.contains_key(&secret.name) {
            return Err(StoreError::AlreadyExists);
        }
        if first.version.secret_name != secret.name {
            return Err(StoreError::ReferenceNotFound);
        }
        let versions = BTreeMap::from([(first.version.version_id.clone(), first.clone())]);
        let stages = stage_map(&secret.name, stages, &versions)?;
        let mut tag_map = BTreeMap::new();
        for t in tags {
            if tag_map.insert(t.key.clone(), t.value.clone()).is_some() {
                return Err(StoreError::AlreadyExists);
            }
        }
        let entry = SecretEntry {
            record: secret.clone(),
            versions,
            stages,
            tags: tag_map,
        };
        m.secrets.insert(secret.name.clone(), entry);
        Ok(())
    }

    async fn get_secret(&self, name: &str) -> Result<Option<SecretRecord>, StoreError> {
        Ok(self.maps().secrets.get(name).map(|e| e.record.clone()))
    }

    async fn list_secret_versions(&self, name: &str) -> Result<Vec<SecretVersion>, StoreError> {
        let m = self.maps();
        Ok(m.secrets
            .get(name)
            .map(SecretEntry::versions_oldest_first)
            .unwrap_or_default())
    }

    async fn list_secret_stages(&self, name: &str) -> Result<Vec<SecretStage>, StoreError> {
        let m = self.maps();
        Ok(m.secrets
            .get(name)
            .map(SecretEntry::stage_rows)
            .unwrap_or_default())
    }

    async fn secret_ciphertext(
        &self,
        name: &str,
        version_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let m = self.maps();
        let version = m.secrets.get(name).and_then(|e| e.versions.get(version_id));
        Ok(version.map(|v| v.ciphertext.clone()))
    }

    async fn update_secret(&self, change: &SecretChange) -> Result<(), StoreError> {
        let mut m = self.maps();
        let entry = m
            .secrets
            .get(&change.secret.name)
            .ok_or(StoreError::NotFound)?;
        let next = changed(entry, change)?;
        m.secrets.insert(change.secret.name.clone(), next);
        Ok(())
    }

    async fn page_secrets(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SecretRecord>, StoreError> {
        let m = self.maps();
        let from = m
            .secrets
            .iter()
            .filter(|(name, _)| after.is_none_or(|a| name.as_str() > a));
        Ok(from.take(limit).map(|(_, e)| e.record.clone()).collect())
    }

    async fn due_secrets(&self, now: i64) -> Result<Vec<String>, StoreError> {
        let m = self.maps();
        let due = m
            .secrets
            .values()
            .filter(|e| e.record.planned_delete_at.is_some_and(|at| at <= now));
        Ok(due.map(|e| e.record.name.clone()).collect())
    }

    async fn destroy_secret(&self, name: &str) -> Result<(), StoreError> {
        let removed = self.maps().secrets.remove(name);
        removed.map(|_| ()).ok_or(StoreError::NotFound)
    }

    async fn list_secret_tags(&self, name: &str) -> Result<Vec<Tag>, StoreError> {
        let m = self.maps();
        let tags = m
            .secrets
            .get(name)
            .map(|e| e.tags.clone())
            .unwrap_or_default();
        Ok(tags
            .into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect())
    }

    async fn put_secret_tags(
        &self,
        name: &str,
        tags: &[Tag],
        max_tags: usize,
    ) -> Result<(), StoreError> {
        let mut m = self.maps();
        let entry = m
            .secrets
            .get_mut(name)
            .ok_or(StoreError::ReferenceNotFound)?;
        let mut next = entry.tags.clone();
        for t in tags {
            next.insert(t.key.clone(), t.value.clone());
        }
        if next.len() > max_tags {
            return Err(StoreError::LimitExceeded);
        }
        entry.tags = next;
        Ok(())
    }

    async fn delete_secret_tags(&self, name: &str, tag_keys: &[String]) -> Result<(), StoreError> {
        if let Some(entry) = self.maps().secrets.get_mut(name) {
            entry.tags.retain(|key, _| !tag_keys.contains(key));
        }
        Ok(())
    }
}
