//! [`SecretStore`]: the secrets of the Secrets Manager API, their versions, their stage labels
//! and their tags.
//!
//! A secret is a record ([`SecretRecord`]: name, type, description, the CMK its versions are
//! encrypted under, dates, policy, revision), at most a few versions ([`SecretVersion`], each
//! with its value as ciphertext under the CMK: the store never sees a secret value in the
//! clear), the stage labels pointing at versions ([`SecretStage`], one version per label) and
//! tags. The rules (which label moves where, how many versions are kept) are the key service's
//! (`service::secrets`); the store applies a whole change of a secret in one transaction under
//! the secret's revision ([`SecretStore::update_secret`]), so a stage move is never seen half
//! done and two racing writers cannot both apply a change computed from the same state. Not
//! part of the key capabilities: nothing here refers to a key row, so a CMK's destruction
//! leaves its secrets stored (and unreadable).

use async_trait::async_trait;

use super::StoreError;
use crate::model::Tag;

/// How a secret value is meant to be read; the value itself is stored the same way for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretDataType {
    /// `text`.
    Text,
    /// `binary`: still an opaque string on the wire, never base64-decoded.
    Binary,
}

impl SecretDataType {
    /// The API (and stored) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Binary => "binary",
        }
    }

    /// Reads an API (stored) name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "text" => Some(Self::Text),
            "binary" => Some(Self::Binary),
            _ => None,
        }
    }
}

/// A secret without its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    /// The name, unique in the store (the primary key).
    pub name: String,
    /// The secret type (`Generic`: the only one a self-hosted server serves).
    pub secret_type: String,
    /// The description.
    pub description: String,
    /// The CMK the versions are encrypted under, as the request named it resolved to a key
    /// id; `None` when the service's default key is used (DescribeSecret then shows none).
    pub encryption_key_id: Option<String>,
    /// When it was created, seconds since the epoch.
    pub created_at: i64,
    /// When it last changed (a new version, a stage move, a description), seconds.
    pub updated_at: i64,
    /// When a scheduled deletion destroys it, seconds; `None` unless scheduled.
    pub planned_delete_at: Option<i64>,
    /// The secret policy document, `None` for the default one.
    pub policy: Option<String>,
    /// The optimistic-concurrency counter: a change is applied only over the revision before
    /// it.
    pub revision: i64,
}

/// A version of a secret, without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretVersion {
    /// The secret it belongs to.
    pub secret_name: String,
    /// The version id, unique within the secret.
    pub version_id: String,
    /// When it was added, seconds since the epoch.
    pub created_at: i64,
    /// `text` or `binary`.
    pub data_type: SecretDataType,
}

/// A version and its value's ciphertext, as written and as a snapshot carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecretVersion {
    /// The version.
    pub version: SecretVersion,
    /// The value encrypted under the secret's CMK (never the value itself).
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for StoredSecretVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecretVersion")
            .field("version", &self.version)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// A stage label on a version: each label of a secret marks exactly one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretStage {
    /// The secret.
    pub secret_name: String,
    /// The label (`ACSCurrent`, `ACSPrevious` or a custom one).
    pub stage: String,
    /// The version it marks.
    pub version_id: String,
}

/// A tag of a secret (a snapshot's form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretTag {
    /// The secret.
    pub secret_name: String,
    /// The tag.
    pub tag: Tag,
}

/// One change of a secret, applied whole: the new record, a version added, versions dropped,
/// and the secret's whole new set of stage labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretChange {
    /// The record after the change; its revision is the stored one plus one.
    pub secret: SecretRecord,
    /// A version to add (its secret name is the record's).
    pub added: Option<StoredSecretVersion>,
    /// Versions to remove with their values (ids absent are ignored).
    pub dropped: Vec<String>,
    /// Every stage label of the secret after the change, replacing the stored ones; each label
    /// once, each naming a version kept by the change.
    pub stages: Vec<SecretStage>,
}

/// Secrets, their versions, stages and tags.
#[async_trait]
pub trait SecretStore: Send + Sync + 'static {
    /// Creates a secret with its first version, its stage labels and its tags, all or
    /// nothing. `AlreadyExists` if the name is taken (also by a secret scheduled for
    /// deletion); the version and stages must belong to the secret (`ReferenceNotFound`).
    async fn create_secret(
        &self,
        secret: &SecretRecord,
        first: &StoredSecretVersion,
        stages: &[SecretStage],
        tags: &[Tag],
    ) -> Result<(), StoreError>;

    /// Reads a secret by name.
    async fn get_secret(&self, name: &str) -> Result<Option<SecretRecord>, StoreError>;

    /// A secret's versions, oldest first (by creation time, then version id); empty for an
    /// unknown secret.
    async fn list_secret_versions(&self, name: &str) -> Result<Vec<SecretVersion>, StoreError>;

    /// A secret's stage labels, by label in byte order.
    async fn list_secret_stages(&self, name: &str) -> Result<Vec<SecretStage>, StoreError>;

    /// The ciphertext of one version's value, `None` if there is no such version.
    async fn secret_ciphertext(
        &self,
        name: &str,
        version_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Applies `change` in one transaction if the stored revision is `change.secret.revision -
    /// 1`: `Conflict` if it is not, `NotFound` if there is no such secret, `AlreadyExists` if
    /// the added version id is taken, `ReferenceNotFound` if a label names a version the
    /// change does not keep. Nothing is written on an error.
    async fn update_secret(&self, change: &SecretChange) -> Result<(), StoreError>;

    /// One page of the secrets by name (byte order): at most `limit`, the first one just after
    /// `after` (from the start when `None`). A keyset read over the primary key.
    async fn page_secrets(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SecretRecord>, StoreError>;

    /// The names of the secrets whose scheduled deletion is due at `now`
    /// (`planned_delete_at <= now`), by name.
    async fn due_secrets(&self, now: i64) -> Result<Vec<String>, StoreError>;

    /// Destroys a secret: its record, every version with its ciphertext, its stages and tags,
    /// in one transaction (SQLite overwrites the deleted rows). `NotFound` if absent.
    async fn destroy_secret(&self, name: &str) -> Result<(), StoreError>;

    /// A secret's tags by tag key (byte order).
    async fn list_secret_tags(&self, name: &str) -> Result<Vec<Tag>, StoreError>;

    /// Sets tags on a secret as [`super::TagStore::put_tags`] does on a key: values of present
    /// tag keys replaced, at most `max_tags` after the write (`LimitExceeded`, nothing
    /// written), `ReferenceNotFound` if the secret does not exist; count and write atomic.
    async fn put_secret_tags(
        &self,
        name: &str,
        tags: &[Tag],
        max_tags: usize,
    ) -> Result<(), StoreError>;

    /// Removes the secret's tags with these tag keys (absent ones are ignored).
    async fn delete_secret_tags(&self, name: &str, tag_keys: &[String]) -> Result<(), StoreError>;
}
