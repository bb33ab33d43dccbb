//! [`ReplayStore`]: SignatureNonce records shared by every node of a deployment.
//!
//! Not part of [`super::Store`]: the key service never touches nonces. The front end records
//! them here (when nodes share a store) and the binary purges expired ones.

use async_trait::async_trait;

use super::StoreError;

/// Request nonces seen recently, shared by every node using the store.
#[async_trait]
pub trait ReplayStore: Send + Sync + 'static {
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
}
