//! The storage contract: one trait, one error type.
//!
//! A [`Store`] keeps keys, versions (material wrapped), aliases, AccessKeys, RAM users, custom
//! policies and their attachments, and a few named metadata values. Every method that returns `Ok` for a write has made that write durable:
//! callers acknowledge to clients only after it returns. Backends live in their own crates and
//! all run the shared conformance suite (`openkms-store-tests`). This module does not know
//! SQL, files or connections.

use async_trait::async_trait;

use crate::model::{
    AccessKeyRecord, AliasRecord, AttachmentRecord, KeyRecord, PolicyRecord, PolicyType, Tag,
    UserRecord, VersionRecord,
};

/// An error from a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name or id is taken (for example an alias name).
    #[error("already exists")]
    AlreadyExists,
    /// A record the write depends on does not exist (for example the key of a new alias).
    #[error("referenced record not found")]
    ReferenceNotFound,
    /// The record to update or delete does not exist.
    #[error("record not found")]
    NotFound,
    /// The record changed since it was read (its revision moved on); read again and retry.
    #[error("concurrent update")]
    Conflict,
    /// The write would take a record past a limit the caller gave (for example a key's tag
    /// count, or a user's AccessKeys); nothing was written.
    #[error("limit exceeded")]
    LimitExceeded,
    /// The backend cannot be reached or failed; the write may not have happened.
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back as a record.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Durable storage for the key service.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads a named metadata value (root-key check value, account id, ...).
    async fn get_meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Writes a named metadata value if none exists; returns whether it was written.
    async fn put_meta_if_absent(&self, name: &str, value: &[u8]) -> Result<bool, StoreError>;

    /// Creates a key with its first version and tags, atomically: all or nothing.
    /// `version.key_id` must equal `key.key_id` (otherwise `ReferenceNotFound`); tag keys must
    /// be distinct (the service checks; a duplicate is `AlreadyExists`).
    async fn create_key(
        &self,
        key: &KeyRecord,
        version: &VersionRecord,
        tags: &[Tag],
    ) -> Result<(), StoreError>;

    /// Reads a key by id.
    async fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError>;

    /// Reads a key version by version id.
    async fn get_version(&self, version_id: &str) -> Result<Option<VersionRecord>, StoreError>;

    /// Lists a key's tags, sorted by tag key in byte order (not by locale).
    async fn list_tags(&self, key_id: &str) -> Result<Vec<Tag>, StoreError>;

    /// Creates an alias. `AlreadyExists` if the name is taken, `ReferenceNotFound` if the key
    /// does not exist.
    async fn create_alias(&self, alias: &AliasRecord) -> Result<(), StoreError>;

    /// Reads an alias by its full name.
    async fn get_alias(&self, name: &str) -> Result<Option<AliasRecord>, StoreError>;

    /// Creates an AccessKey without looking at its owner: for the root AccessKey, which has
    /// no user record. A RAM user's AccessKey goes through
    /// [`Store::create_user_access_key`]. `AlreadyExists` if the id is taken.
    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError>;

    /// Creates an AccessKey owned by the user named `key.user`, unless that user already owns
    /// `max_per_user` AccessKeys.
    ///
    /// The check of the user, the count of its AccessKeys and the insert are one atomic step:
    /// concurrent calls for one user, from any node sharing the store, cannot together take
    /// it past `max_per_user`, and a racing [`Store::delete_user`] either deletes the user
    /// before (this call is `ReferenceNotFound`) or is refused because of the new key
    /// (`Conflict`). Nothing is written on error: `ReferenceNotFound` if no user is named
    /// `key.user`, `LimitExceeded` if it owns `max_per_user` AccessKeys or more,
    /// `AlreadyExists` if the id is taken.
    async fn create_user_access_key(
        &self,
        key: &AccessKeyRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError>;

    /// Reads an AccessKey by id.
    async fn get_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRecord>, StoreError>;

    /// Whether the store holds no keys and no AccessKeys (a fresh data directory).
    async fn is_empty(&self) -> Result<bool, StoreError>;

    /// Replaces a key's record if the stored revision is `key.revision - 1`: `Conflict` if it
    /// is not, `NotFound` if there is no such key.
    async fn update_key(&self, key: &KeyRecord) -> Result<(), StoreError>;

    /// Adds a version and replaces the key's record (its new primary, rotation dates) in one
    /// transaction, under the same revision rule as [`Store::update_key`].
    async fn add_version(&self, key: &KeyRecord, version: &VersionRecord)
    -> Result<(), StoreError>;

    /// A key's versions, oldest first (by creation time, then version id).
    async fn list_versions(&self, key_id: &str) -> Result<Vec<VersionRecord>, StoreError>;

    /// Every key, oldest first (by creation time, then key id).
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError>;

    /// Keys with work due at `now`: PendingDeletion keys whose `delete_at <= now`, and Enabled
    /// keys whose `next_rotation_at <= now`.
    async fn due_keys(&self, now: i64) -> Result<Vec<KeyRecord>, StoreError>;

    /// Aliases sorted by name (byte order): all, or those of one key.
    async fn list_aliases(&self, key_id: Option<&str>) -> Result<Vec<AliasRecord>, StoreError>;

    /// Points an existing alias at another key: `NotFound` if the alias does not exist,
    /// `ReferenceNotFound` if the key does not.
    async fn update_alias(&self, alias: &AliasRecord) -> Result<(), StoreError>;

    /// Deletes an alias; returns whether it existed.
    async fn delete_alias(&self, name: &str) -> Result<bool, StoreError>;

    /// Sets tags on a key, replacing the value of keys already present (a tag key given twice
    /// keeps its last value), unless the key would then hold more than `max_tags` tags. The
    /// count is taken after the write, so a tag key already present or given twice counts
    /// once, and replacing values at the limit is allowed.
    ///
    /// The count and the write are one atomic step: concurrent calls on one key, from any
    /// node sharing the store, cannot together take it past `max_tags`. `LimitExceeded`
    /// (nothing of the call written) if the key would hold too many tags, `ReferenceNotFound`
    /// if the key does not exist.
    async fn put_tags(&self, key_id: &str, tags: &[Tag], max_tags: usize)
    -> Result<(), StoreError>;

    /// Removes the tags with these tag keys (absent ones are ignored).
    async fn delete_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError>;

    /// Destroys a key: deletes its record, every version's material, its aliases and tags, in
    /// one transaction, and remembers the destroyed version ids (see
    /// [`Store::is_destroyed_version`]). `NotFound` if there is no such key.
    async fn destroy_key(&self, key_id: &str) -> Result<(), StoreError>;

    /// Whether `version_id` belonged to a key that was destroyed (its material is gone).
    async fn is_destroyed_version(&self, version_id: &str) -> Result<bool, StoreError>;

    /// Records that `nonce` was used by `access_key_id`, valid until `expires_at` (seconds since
    /// the epoch). Returns false if the same (access_key_id, nonce) is already recorded with an
    /// expiry >= `now` (a replay); an expired record is replaced. Durable like other writes, and
    /// atomic across every node sharing the store: of concurrent calls with one nonce, exactly
    /// one returns true.
    async fn use_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Deletes nonce records that expired before `now`; returns how many.
    async fn purge_nonces(&self, now: i64) -> Result<u64, StoreError>;

    /// Creates a user. `AlreadyExists` if the name is taken.
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    /// Reads a user by name.
    async fn get_user(&self, user_name: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Every user, sorted by name (byte order).
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// Deletes a user that owns no AccessKey and holds no policy, in one transaction:
    /// `NotFound` if there is no such user, `Conflict` if it still owns or holds something.
    async fn delete_user(&self, user_name: &str) -> Result<(), StoreError>;

    /// A user's AccessKeys, oldest first (by creation time, then AccessKeyId).
    async fn list_access_keys(&self, user_name: &str) -> Result<Vec<AccessKeyRecord>, StoreError>;

    /// Activates or deactivates an AccessKey. `NotFound` if there is no such key.
    async fn set_access_key_active(
        &self,
        access_key_id: &str,
        active: bool,
    ) -> Result<(), StoreError>;

    /// Deletes an AccessKey; returns whether it existed.
    async fn delete_access_key(&self, access_key_id: &str) -> Result<bool, StoreError>;

    /// Creates a custom policy. `AlreadyExists` if the name is taken.
    async fn create_policy(&self, policy: &PolicyRecord) -> Result<(), StoreError>;

    /// Reads a custom policy by name.
    async fn get_policy(&self, policy_name: &str) -> Result<Option<PolicyRecord>, StoreError>;

    /// Every custom policy, sorted by name (byte order).
    async fn list_policies(&self) -> Result<Vec<PolicyRecord>, StoreError>;

    /// Deletes a custom policy attached to nobody, in one transaction: `NotFound` if there is
    /// no such policy, `Conflict` if it is still attached.
    async fn delete_policy(&self, policy_name: &str) -> Result<(), StoreError>;

    /// Attaches a policy to a user. `AlreadyExists` if it is attached already,
    /// `ReferenceNotFound` if the user does not exist, or the policy is `Custom` and does not
    /// exist. (System policies are not stored; any name is accepted for them here.)
    async fn attach_policy(&self, attachment: &AttachmentRecord) -> Result<(), StoreError>;

    /// Detaches a policy from a user; returns whether it was attached.
    async fn detach_policy(
        &self,
        user_name: &str,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<bool, StoreError>;

    /// The policies attached to a user, oldest attachment first (then by type and name).
    async fn list_user_attachments(
        &self,
        user_name: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError>;

    /// The users a policy is attached to, oldest attachment first (then by user name).
    async fn list_policy_attachments(
        &self,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError>;
}
