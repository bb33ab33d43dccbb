//! [`MetaStore`]: a few named metadata values (the root-key check value, the account id, ...).

use async_trait::async_trait;

use super::StoreError;

/// Named metadata values, each written once, or replaced only over the value read before.
#[async_trait]
pub trait MetaStore: Send + Sync + 'static {
    /// Reads a named metadata value (root-key check value, account id, ...).
    async fn get_meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Writes a named metadata value if none exists; returns whether it was written.
    async fn put_meta_if_absent(&self, name: &str, value: &[u8]) -> Result<bool, StoreError>;

    /// Replaces the value of `name` with `value` only if it is `expected` now (a
    /// compare-and-swap, atomic against every other writer and node); returns whether it was
    /// written. An absent name is not replaced (use [`MetaStore::put_meta_if_absent`]). Counts
    /// such as an HSM key version's reserved encryptions are kept this way.
    async fn replace_meta_if(
        &self,
        name: &str,
        expected: &[u8],
        value: &[u8],
    ) -> Result<bool, StoreError>;
}
