//! [`AliasStore`]: alias names pointing at keys.

use async_trait::async_trait;

use super::StoreError;
use crate::model::AliasRecord;

/// Aliases: unique names, each pointing at an existing key.
#[async_trait]
pub trait AliasStore: Send + Sync + 'static {
    /// Creates an alias. `AlreadyExists` if the name is taken, `ReferenceNotFound` if the key
    /// does not exist.
    async fn create_alias(&self, alias: &AliasRecord) -> Result<(), StoreError>;

    /// Reads an alias by its full name.
    async fn get_alias(&self, name: &str) -> Result<Option<AliasRecord>, StoreError>;

    /// Aliases sorted by name (byte order): all, or those of one key.
    async fn list_aliases(&self, key_id: Option<&str>) -> Result<Vec<AliasRecord>, StoreError>;

    /// One page of [`AliasStore::list_aliases`]: at most `limit` aliases (all, or those of
    /// one key) sorted by name, the first one named just after `after` (from the start when
    /// `None`). A keyset read over the name index.
    async fn page_aliases(
        &self,
        key_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AliasRecord>, StoreError>;

    /// How many aliases there are (all, or those of one key).
    async fn count_aliases(&self, key_id: Option<&str>) -> Result<u64, StoreError>;

    /// The name of the alias at position `index` (from 0) of [`AliasStore::list_aliases`];
    /// `None` past the end. Skips `index` entries of the name index: for a page asked for
    /// out of order.
    async fn alias_name_at(
        &self,
        key_id: Option<&str>,
        index: u64,
    ) -> Result<Option<String>, StoreError>;

    /// Points an existing alias at another key: `NotFound` if the alias does not exist,
    /// `ReferenceNotFound` if the key does not.
    async fn update_alias(&self, alias: &AliasRecord) -> Result<(), StoreError>;

    /// Deletes an alias; returns whether it existed.
    async fn delete_alias(&self, name: &str) -> Result<bool, StoreError>;
}
