//! The in-memory store's [`SnapshotStore`]: the maps copied out under their one lock, and
//! filled from a snapshot under it, checked first, so an import is all or nothing.

use async_trait::async_trait;
use openkms_core::store::{MetaEntry, Snapshot, SnapshotStore, check_importable, is_exported_meta};
use openkms_core::{KeyTag, PolicyType, StoreError, Tag};

use super::{Maps, MemoryStore};

impl Maps {
    /// Every record, as a snapshot.
    fn snapshot(&self) -> Snapshot {
        let meta = self.meta.iter().filter(|(name, _)| is_exported_meta(name));
        let tags = self.tags.iter().flat_map(|(key_id, tags)| {
            tags.iter().map(move |(k, v)| KeyTag {
                key_id: key_id.clone(),
                tag: Tag {
                    key: k.clone(),
                    value: v.clone(),
                },
            })
        });
        let (secrets, secret_versions, secret_stages, secret_tags) = self.secret_rows();
        let mut snapshot = Snapshot {
            meta: meta
                .map(|(name, value)| MetaEntry {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            keys: self.keys.values().cloned().collect(),
            versions: self.versions.values().cloned().collect(),
            tags: tags.collect(),
            aliases: self.aliases.values().cloned().collect(),
            destroyed: self.destroyed.values().cloned().collect(),
            users: self.users.values().cloned().collect(),
            policies: self.policies.values().cloned().collect(),
            attachments: self.attached.values().cloned().collect(),
            access_keys: self.access.values().cloned().collect(),
            login_profiles: self.logins.values().cloned().collect(),
            secrets,
            secret_versions,
            secret_stages,
            secret_tags,
            imports: self.imports.values().cloned().collect(),
        };
        snapshot.canonicalize();
        snapshot
    }

    /// Whether no map of the snapshot holds a record.
    fn holds_state(&self) -> bool {
        !(self.meta.is_empty()
            && self.keys.is_empty()
            && self.versions.is_empty()
            && self.tags.is_empty()
            && self.aliases.is_empty()
            && self.destroyed.is_empty()
            && self.users.is_empty()
            && self.policies.is_empty()
            && self.attached.is_empty()
            && self.access.is_empty()
            && self.logins.is_empty()
            && self.secrets.is_empty()
            && self.imports.is_empty())
    }
}

/// The rules the SQL backends' constraints enforce on an import: unique primary keys, and
/// every reference to a record of the snapshot (keys, users, custom policies).
fn check(s: &Snapshot) -> Result<(), StoreError> {
    let unique = |ids: Vec<String>| {
        let n = ids.len();
        let set: std::collections::BTreeSet<_> = ids.into_iter().collect();
        (set.len() == n)
            .then_some(())
            .ok_or(StoreError::AlreadyExists)
    };
    unique(s.meta.iter().map(|m| m.name.clone()).collect())?;
    unique(s.keys.iter().map(|k| k.key_id.clone()).collect())?;
    unique(s.versions.iter().map(|v| v.version_id.clone()).collect())?;
    unique(s.aliases.iter().map(|a| a.name.clone()).collect())?;
    unique(s.imports.iter().map(|i| i.key_id.clone()).collect())?;
    unique(s.destroyed.iter().map(|d| d.version_id.clone()).collect())?;
    unique(s.users.iter().map(|u| u.user_name.clone()).collect())?;
    unique(s.policies.iter().map(|p| p.policy_name.clone()).collect())?;
    unique(
        s.access_keys
            .iter()
            .map(|a| a.access_key_id.clone())
            .collect(),
    )?;
    let tag_ids = s
        .tags
        .iter()
        .map(|t| format!("{}\n{}", t.key_id, t.tag.key));
    unique(tag_ids.collect())?;
    unique(
        s.login_profiles
            .iter()
            .map(|p| p.user_name.clone())
            .collect(),
    )?;
    let attachment_ids = s.attachments.iter().map(|a| {
        format!(
            "{}\n{}\n{}",
            a.user_name,
            a.policy_type.as_str(),
            a.policy_name
        )
    });
    unique(attachment_ids.collect())?;
    check_references(s)
}

/// Every key, user and custom policy a record refers to is in the snapshot.
fn check_references(s: &Snapshot) -> Result<(), StoreError> {
    let key = |id: &str| s.keys.iter().any(|k| k.key_id == id);
    let user = |name: &str| s.users.iter().any(|u| u.user_name == name);
    let policy = |name: &str| s.policies.iter().any(|p| p.policy_name == name);
    let ok = s.versions.iter().all(|v| key(&v.key_id))
        && s.tags.iter().all(|t| key(&t.key_id))
        && s.aliases.iter().all(|a| key(&a.key_id))
        && s.imports.iter().all(|i| key(&i.key_id))
        && s.login_profiles.iter().all(|p| user(&p.user_name))
        && s.attachments.iter().all(|a| {
            user(&a.user_name) && (a.policy_type == PolicyType::System || policy(&a.policy_name))
        });
    ok.then_some(()).ok_or(StoreError::ReferenceNotFound)
}

#[async_trait]
impl SnapshotStore for MemoryStore {
    async fn export_snapshot(&self) -> Result<Snapshot, StoreError> {
        Ok(self.maps().snapshot())
    }

    async fn import_snapshot(&self, s: &Snapshot) -> Result<(), StoreError> {
        check_importable(s)?;
        let mut m = self.maps();
        if m.holds_state() {
            return Err(StoreError::NotEmpty);
        }
        check(s)?;
        let secrets = m.import_secrets(s)?;
        m.secrets = secrets;
        for e in &s.meta {
            m.meta.insert(e.name.clone(), e.value.clone());
        }
        for k in &s.keys {
            m.keys.insert(k.key_id.clone(), k.clone());
            m.tags.insert(k.key_id.clone(), Default::default());
        }
        for v in &s.versions {
            m.versions.insert(v.version_id.clone(), v.clone());
        }
        for t in &s.tags {
            let tags = m.tags.entry(t.key_id.clone()).or_default();
            tags.insert(t.tag.key.clone(), t.tag.value.clone());
        }
        for a in &s.aliases {
            m.aliases.insert(a.name.clone(), a.clone());
        }
        for d in &s.destroyed {
            m.destroyed.insert(d.version_id.clone(), d.clone());
        }
        for i in &s.imports {
            m.imports.insert(i.key_id.clone(), i.clone());
        }
        import_identities(&mut m, s);
        Ok(())
    }
}

/// Users, policies, attachments, AccessKeys and login profiles (checked already).
fn import_identities(m: &mut Maps, s: &Snapshot) {
    for u in &s.users {
        m.users.insert(u.user_name.clone(), u.clone());
    }
    for p in &s.policies {
        m.policies.insert(p.policy_name.clone(), p.clone());
    }
    for a in &s.attachments {
        let id = (a.user_name.clone(), a.policy_type, a.policy_name.clone());
        m.attached.insert(id, a.clone());
    }
    for a in &s.access_keys {
        m.access.insert(a.access_key_id.clone(), a.clone());
    }
    for p in &s.login_profiles {
        m.logins.insert(p.user_name.clone(), p.clone());
    }
}
