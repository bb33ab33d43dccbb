//! [`SnapshotStore`]: every record a store holds as state, read in one consistent view, or
//! written into an empty store in one transaction. What `openkms backup` and `openkms restore`
//! move between stores, of the same backend or not.
//!
//! A [`Snapshot`] holds only what the store holds: key material and AccessKey secrets stay
//! wrapped under the root key, and the root key's check value comes along in the metadata, so a
//! restored store opens with the same root key and no other. Which tables are state and which
//! are not is decided here, once for every backend ([`SNAPSHOT_TABLES`], [`OTHER_TABLES`]); each
//! backend's tests compare its schema with these two lists, so a new table cannot be forgotten.
//! This module does not know SQL, files or the backup file format (the binary owns that).

use async_trait::async_trait;

use super::{
    AuditAnchor, KeyTag, SecretRecord, SecretStage, SecretTag, StoreError, StoredSecretVersion,
};
use crate::model::{
    AccessKeyRecord, AliasRecord, AttachmentRecord, KeyRecord, PolicyRecord, UserRecord,
    VersionRecord,
};

/// The tables a snapshot carries, in the order an import writes them (every table before the
/// ones that refer to it).
pub const SNAPSHOT_TABLES: &[&str] = &[
    "meta",
    "keys",
    "key_versions",
    "key_tags",
    "aliases",
    "destroyed_versions",
    "users",
    "policies",
    "policy_attachments",
    "access_keys",
    "login_profiles",
    "secrets",
    "secret_versions",
    "secret_stages",
    "secret_tags",
    "key_imports",
];

/// The tables a snapshot leaves out, each with why.
pub const OTHER_TABLES: &[(&str, &str)] = &[
    (
        "nonces",
        "SignatureNonces seen in the last 15 minutes: a request that old is refused by its \
         timestamp anyway, so a restored store needs none of them",
    ),
    (
        "openkms_schema_migrations",
        "PostgreSQL's record of the migrations applied: the target's own migrations write it",
    ),
];

/// A named metadata value (the root key's check value, the account id, the root AccessKeyId).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaEntry {
    /// The name.
    pub name: String,
    /// The value.
    pub value: Vec<u8>,
}

/// The tombstone of a destroyed key version: kept so a ciphertext of it is told apart from one
/// of a version that never existed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestroyedVersion {
    /// The destroyed version's id.
    pub version_id: String,
    /// The key it belonged to.
    pub key_id: String,
    /// When it was destroyed, seconds since the epoch.
    pub destroyed_at: i64,
}

/// Every record of every capability, as of one moment. Each list is in its canonical order
/// (see [`Snapshot::canonicalize`]), so two snapshots of the same state are equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Metadata values, audit anchors excepted (see [`is_exported_meta`]); by name.
    pub meta: Vec<MetaEntry>,
    /// Keys, by key id.
    pub keys: Vec<KeyRecord>,
    /// Key versions with their wrapped material, by version id.
    pub versions: Vec<VersionRecord>,
    /// Tags, by key id then tag key.
    pub tags: Vec<KeyTag>,
    /// Aliases, by name.
    pub aliases: Vec<AliasRecord>,
    /// Tombstones of destroyed versions, by version id.
    pub destroyed: Vec<DestroyedVersion>,
    /// RAM users, by name.
    pub users: Vec<UserRecord>,
    /// Custom policies, by name.
    pub policies: Vec<PolicyRecord>,
    /// Policy attachments, by user, policy type and policy name.
    pub attachments: Vec<AttachmentRecord>,
    /// AccessKeys (the root one too) with their wrapped secrets, by id.
    pub access_keys: Vec<AccessKeyRecord>,
    /// Secrets, by name.
    pub secrets: Vec<SecretRecord>,
    /// Secret versions with their values' ciphertexts (under CMKs, never in the clear), by
    /// secret name then version id.
    pub secret_versions: Vec<StoredSecretVersion>,
    /// Stage labels, by secret name then label.
    pub secret_stages: Vec<SecretStage>,
    /// Secret tags, by secret name then tag key.
    pub secret_tags: Vec<SecretTag>,
    /// RAM users' login profiles (console password hashes), by user name.
    pub login_profiles: Vec<super::LoginProfileRecord>,
    /// EXTERNAL keys' import state, by key id.
    pub imports: Vec<crate::model::ImportRecord>,
}

impl Snapshot {
    /// Sorts every list into its canonical order (byte order of the primary key).
    pub fn canonicalize(&mut self) {
        self.meta.sort_by(|a, b| a.name.cmp(&b.name));
        self.keys.sort_by(|a, b| a.key_id.cmp(&b.key_id));
        self.versions
            .sort_by(|a, b| a.version_id.cmp(&b.version_id));
        self.tags
            .sort_by(|a, b| (&a.key_id, &a.tag.key).cmp(&(&b.key_id, &b.tag.key)));
        self.aliases.sort_by(|a, b| a.name.cmp(&b.name));
        self.destroyed
            .sort_by(|a, b| a.version_id.cmp(&b.version_id));
        self.users.sort_by(|a, b| a.user_name.cmp(&b.user_name));
        self.policies
            .sort_by(|a, b| a.policy_name.cmp(&b.policy_name));
        self.attachments.sort_by(|a, b| {
            let key = |r: &AttachmentRecord| {
                (
                    r.user_name.clone(),
                    r.policy_type.as_str(),
                    r.policy_name.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        self.access_keys
            .sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
        self.secrets.sort_by(|a, b| a.name.cmp(&b.name));
        self.secret_versions.sort_by(|a, b| {
            let key = |v: &StoredSecretVersion| {
                (v.version.secret_name.clone(), v.version.version_id.clone())
            };
            key(a).cmp(&key(b))
        });
        self.secret_stages
            .sort_by(|a, b| (&a.secret_name, &a.stage).cmp(&(&b.secret_name, &b.stage)));
        self.secret_tags
            .sort_by(|a, b| (&a.secret_name, &a.tag.key).cmp(&(&b.secret_name, &b.tag.key)));
        self.login_profiles
            .sort_by(|a, b| a.user_name.cmp(&b.user_name));
        self.imports.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    }

    /// How many records of each table, in the order of [`SNAPSHOT_TABLES`].
    pub fn counts(&self) -> [(&'static str, usize); 16] {
        [
            ("meta", self.meta.len()),
            ("keys", self.keys.len()),
            ("key_versions", self.versions.len()),
            ("key_tags", self.tags.len()),
            ("aliases", self.aliases.len()),
            ("destroyed_versions", self.destroyed.len()),
            ("users", self.users.len()),
            ("policies", self.policies.len()),
            ("policy_attachments", self.attachments.len()),
            ("access_keys", self.access_keys.len()),
            ("login_profiles", self.login_profiles.len()),
            ("secrets", self.secrets.len()),
            ("secret_versions", self.secret_versions.len()),
            ("secret_stages", self.secret_stages.len()),
            ("secret_tags", self.secret_tags.len()),
            ("key_imports", self.imports.len()),
        ]
    }

    /// The records in all, every table counted.
    pub fn len(&self) -> usize {
        self.counts().iter().map(|(_, n)| n).sum()
    }

    /// Whether it holds no record at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The metadata name under which a restore notes which backup it restored, and when (a JSON
/// object). A server's first start on the restored store records it in its audit log.
pub const RESTORED_META: &str = "restored_from_backup";

/// The metadata names a snapshot may carry: the state the service keeps in the metadata table.
/// The one allow-list: an import refuses every other name (but [`RESTORED_META`], which the
/// restore itself adds), so a crafted backup cannot plant an audit anchor or any other value
/// the service would trust. A new metadata name that is state goes here (and in
/// docs/backup-format.md), or backups of a store holding it are refused.
pub const SNAPSHOT_META: &[&str] = &[
    crate::service::META_ROOT_CHECK,
    crate::service::META_ACCOUNT,
    crate::service::META_CURSOR_KEY,
    crate::service::META_ROOT_AK,
    crate::unseal::META_SHAMIR,
    crate::service::secrets::META_DEFAULT_KEY,
];

/// Prefixes of metadata names a snapshot may carry too, one name per record they count for:
/// `hsm-budget/<version id>` is the per-version encryption count of the PKCS#11 key provider
/// (a count that must survive a restore, or it would start again from zero).
pub const SNAPSHOT_META_PREFIXES: &[&str] = &[crate::service::HSM_BUDGET_META_PREFIX];

/// Whether a metadata value belongs in a snapshot ([`SNAPSHOT_META`], [`SNAPSHOT_META_PREFIXES`]).
/// Audit anchors do not: each records the head of one node's audit log, and that log is not in
/// the backup (docs/backup.md says what a restored server does about its audit log). Nor does
/// an earlier restore's note ([`RESTORED_META`]): a restore writes its own.
pub fn is_snapshot_meta(name: &str) -> bool {
    SNAPSHOT_META.contains(&name) || SNAPSHOT_META_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether an export leaves a metadata value in: all but audit anchors and an earlier restore's
/// note. A value that is neither and not [`is_snapshot_meta`] stays in, so that a backup of it
/// is refused (by [`check_importable`]) rather than the value silently lost.
pub fn is_exported_meta(name: &str) -> bool {
    !name.starts_with(&AuditAnchor::meta_name("")) && name != RESTORED_META
}

/// Whether an import writes a metadata value: a snapshot's ([`is_snapshot_meta`]) or the
/// restore's own note ([`RESTORED_META`]).
pub fn is_importable_meta(name: &str) -> bool {
    is_snapshot_meta(name) || name == RESTORED_META
}

/// `NotSnapshotMeta` if `snapshot` holds a metadata name an import does not write; every
/// backend's import calls it before writing anything.
pub fn check_importable(snapshot: &Snapshot) -> Result<(), StoreError> {
    let all = snapshot.meta.iter().all(|m| is_importable_meta(&m.name));
    all.then_some(()).ok_or(StoreError::NotSnapshotMeta)
}

/// Moving a whole store's state out of it, and into an empty one.
#[async_trait]
pub trait SnapshotStore: Send + Sync + 'static {
    /// Reads every record of [`SNAPSHOT_TABLES`] in one consistent view (one read transaction:
    /// no write that commits meanwhile is half in it), while other connections and nodes keep
    /// reading and writing. Returns it canonicalized; audit anchors and a restore's note are
    /// left out ([`is_exported_meta`]).
    async fn export_snapshot(&self) -> Result<Snapshot, StoreError>;

    /// Writes `snapshot` into this store in one transaction, if the store holds no row in any of
    /// [`SNAPSHOT_TABLES`]: `NotEmpty` otherwise, and nothing is written. A snapshot that breaks
    /// the store's rules (a version of a key it does not hold, a name twice) is refused with the
    /// backend's error (`ReferenceNotFound`, `AlreadyExists`) and nothing is written either; so
    /// is a metadata name an import does not write (`NotSnapshotMeta`, see [`check_importable`])
    /// and every other failure, and a process killed midway leaves the store as it was.
    async fn import_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_not_snapshot_meta() {
        assert!(!is_snapshot_meta(&AuditAnchor::meta_name("sqlite")));
        assert!(!is_exported_meta(&AuditAnchor::meta_name("sqlite")));
        assert!(!is_importable_meta(&AuditAnchor::meta_name("sqlite")));
        assert!(is_snapshot_meta("root_key_check"));
        assert!(is_snapshot_meta("account_id"));
        assert!(!is_snapshot_meta(RESTORED_META));
        assert!(!is_exported_meta(RESTORED_META));
        assert!(is_importable_meta(RESTORED_META));
    }

    #[test]
    fn only_the_allow_list_is_importable() {
        for name in SNAPSHOT_META {
            assert!(is_importable_meta(name), "{name}");
        }
        assert!(is_importable_meta("hsm-budget/key-1-v1"));
        for name in [
            "",
            "root_key_check ",
            "Root_key_check",
            "audit-anchor",
            "x/hsm-budget/",
        ] {
            assert!(!is_importable_meta(name), "{name:?}");
        }
        let mut snapshot = Snapshot::default();
        snapshot.meta.push(MetaEntry {
            name: "account_id".into(),
            value: b"1".to_vec(),
        });
        assert!(check_importable(&snapshot).is_ok());
        snapshot.meta.push(MetaEntry {
            name: AuditAnchor::meta_name("node-a"),
            value: vec![],
        });
        assert!(matches!(
            check_importable(&snapshot),
            Err(StoreError::NotSnapshotMeta)
        ));
    }

    #[test]
    fn the_two_table_lists_do_not_overlap() {
        for (other, why) in OTHER_TABLES {
            assert!(!SNAPSHOT_TABLES.contains(other), "{other}");
            assert!(!why.is_empty());
        }
        let counted: Vec<_> = Snapshot::default().counts().map(|(t, _)| t).to_vec();
        assert_eq!(counted, SNAPSHOT_TABLES, "counts() follows SNAPSHOT_TABLES");
    }
}
