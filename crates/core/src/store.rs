//! The storage contract: one trait, one error type.
//!
//! A [`Store`] keeps keys, versions (material wrapped), aliases, AccessKeys and a few named
//! metadata values. Every method that returns `Ok` for a write has made that write durable:
//! callers acknowledge to clients only after it returns. Backends live in their own crates and
//! all run the shared conformance suite (`openkms-store-tests`). This module does not know
//! SQL, files or connections.

use async_trait::async_trait;

use crate::model::{AccessKeyRecord, AliasRecord, KeyRecord, Tag, VersionRecord};

/// An error from a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name or id is taken (for example an alias name).
    #[error("already exists")]
    AlreadyExists,
    /// A record the write depends on does not exist (for example the key of a new alias).
    #[error("referenced record not found")]
    ReferenceNotFound,
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

    /// Creates an AccessKey. `AlreadyExists` if the id is taken.
    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError>;

    /// Reads an AccessKey by id.
    async fn get_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRecord>, StoreError>;

    /// Whether the store holds no keys and no AccessKeys (a fresh data directory).
    async fn is_empty(&self) -> Result<bool, StoreError>;
}
