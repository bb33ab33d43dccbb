//! [`KeyStore`]: keys, their versions (material wrapped), and their destruction.

use async_trait::async_trait;

use super::StoreError;
use super::{KeyCursor, KeySelection};
use crate::model::{KeyRecord, Tag, VersionRecord};

/// Keys and key versions: creation, revisioned updates, listings, due work, destruction.
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
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

    /// Whether the store holds no keys and no AccessKeys (a fresh data directory).
    async fn is_empty(&self) -> Result<bool, StoreError>;

    /// Replaces a key's record if the stored revision is `key.revision - 1`: `Conflict` if it
    /// is not, `NotFound` if there is no such key.
    async fn update_key(&self, key: &KeyRecord) -> Result<(), StoreError>;

    /// Adds a version and replaces the key's record (its new primary, rotation dates) in one
    /// transaction, under the same revision rule as [`KeyStore::update_key`].
    async fn add_version(&self, key: &KeyRecord, version: &VersionRecord)
    -> Result<(), StoreError>;

    /// A key's versions, oldest first (by creation time, then version id).
    async fn list_versions(&self, key_id: &str) -> Result<Vec<VersionRecord>, StoreError>;

    /// Every key, oldest first (by creation time, then key id).
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError>;

    /// One page of the keys `selection` selects, in the order of [`KeyStore::list_keys`]: at
    /// most `limit` keys, the first one just after `after` (from the start when `None`). A
    /// keyset read: its cost depends on `limit` (and on how many unselected keys lie between
    /// the selected ones), not on how many keys come before the cursor.
    async fn page_keys(
        &self,
        selection: &KeySelection,
        after: Option<&KeyCursor>,
        limit: usize,
    ) -> Result<Vec<KeyRecord>, StoreError>;

    /// How many keys `selection` selects.
    async fn count_keys(&self, selection: &KeySelection) -> Result<u64, StoreError>;

    /// The cursor just after the key at position `index` (from 0) of the keys `selection`
    /// selects, in listing order; `None` past the end. Reads only the listing index (no key
    /// record), but skips `index` entries of it: for a page asked for out of order.
    async fn key_cursor_at(
        &self,
        selection: &KeySelection,
        index: u64,
    ) -> Result<Option<KeyCursor>, StoreError>;

    /// Keys with work due at `now`: PendingDeletion keys whose `delete_at <= now`, and Enabled
    /// keys whose `next_rotation_at <= now`.
    async fn due_keys(&self, now: i64) -> Result<Vec<KeyRecord>, StoreError>;

    /// Destroys a key: deletes its record, every version's material, its aliases and tags, in
    /// one transaction, and remembers the destroyed version ids (see
    /// [`KeyStore::is_destroyed_version`]). `NotFound` if there is no such key.
    async fn destroy_key(&self, key_id: &str) -> Result<(), StoreError>;

    /// Whether `version_id` belonged to a key that was destroyed (its material is gone).
    async fn is_destroyed_version(&self, version_id: &str) -> Result<bool, StoreError>;
}
