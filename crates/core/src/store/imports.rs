//! [`ImportStore`]: the import state of EXTERNAL keys (BYOK), beside the key records.
//!
//! Per EXTERNAL key: the keyed fingerprint of the first material imported (so a re-import is
//! checked to be the same material without keeping a second copy of it), when the material
//! expires, the time before which import tokens are refused, and the failed unwraps since the
//! last revocation. A key with no row has [`ImportRecord::fresh`]'s state. Writing material
//! (import or deletion) changes the key's record, its single version's wrapped material and
//! this state in one transaction, which also enforces "one key, one material" and token
//! revocation, so no race between requests can get around them. The row goes with its key when the key is destroyed. This
//! module does not unwrap, fingerprint or decide anything (the service does).

use async_trait::async_trait;

use super::StoreError;
use crate::model::{ImportRecord, KeyRecord};

/// Import state of EXTERNAL keys.
#[async_trait]
pub trait ImportStore: Send + Sync + 'static {
    /// Reads a key's import state; `None` if none was ever written.
    async fn get_import(&self, key_id: &str) -> Result<Option<ImportRecord>, StoreError>;

    /// Stores imported material. In one transaction: replaces `key`'s record under the
    /// revision rule of [`super::KeyStore::update_key`] (`Conflict`, `NotFound`), replaces the
    /// wrapped material of its primary version with `wrapped`, and writes `import`'s material
    /// expiry (`import.key_id` must be `key.key_id`, else `ReferenceNotFound`). The key's one
    /// material is the store's to keep: a stored fingerprint is never replaced, and one that
    /// differs from `import.fingerprint` refuses the write (`MaterialMismatch`); a token
    /// issued (`issued_ms`) before the stored `tokens_not_before` refuses it too
    /// (`TokenRevoked`), so a revocation that committed while the import was unwrapping wins.
    /// A stored row keeps its `tokens_not_before`, and its `failed_unwraps` less the one this
    /// import's reservation counted (never below 0); a new row takes `import`'s.
    async fn save_material(
        &self,
        key: &KeyRecord,
        wrapped: &[u8],
        import: &ImportRecord,
        issued_ms: i64,
    ) -> Result<(), StoreError>;

    /// Deletes imported material. In one transaction: replaces `key`'s record under the
    /// revision rule (`Conflict`, `NotFound`), empties its primary version's material, and
    /// revokes the key's tokens issued before `now_ms` (clearing the failure count), and
    /// records `disabled` as `disabled_before_delete`. The fingerprint and expiry are kept: a
    /// later import must bring the same material.
    async fn delete_material(
        &self,
        key: &KeyRecord,
        now_ms: i64,
        disabled: bool,
    ) -> Result<(), StoreError>;

    /// Reserves one unwrap attempt for a token of `key_id` issued at `issued_ms`, atomically,
    /// before the unwrap runs: the attempt is counted as a failure now (a successful
    /// [`Self::save_material`] takes it back), so however many imports run at once, at most
    /// `limit` unwraps are attempted between two revocations. Refused (`false`, nothing
    /// counted) when the token was issued before `tokens_not_before`; when `limit` attempts
    /// are already counted, the key's tokens are revoked instead (`tokens_not_before` becomes
    /// `now_ms`, the count 0) and it is refused too. `ReferenceNotFound` if there is no such
    /// key.
    async fn reserve_unwrap(
        &self,
        key_id: &str,
        issued_ms: i64,
        limit: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Ends a failed unwrap (already counted by [`Self::reserve_unwrap`]): when `limit`
    /// failures are counted, the key's tokens are revoked (`tokens_not_before` becomes
    /// `now_ms`, the count 0). Returns whether it revoked; a key with no state does not.
    async fn settle_failed_unwrap(
        &self,
        key_id: &str,
        limit: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Revokes every token of `key_id` issued before `now_ms`, and clears the failure count,
    /// without touching the rest of its state. `ReferenceNotFound` if there is no such key.
    async fn revoke_tokens(&self, key_id: &str, now_ms: i64) -> Result<(), StoreError>;
}
