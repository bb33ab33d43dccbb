//! The in-memory store's import state of EXTERNAL keys (BYOK).

use async_trait::async_trait;
use openkms_core::{ImportRecord, ImportStore, KeyRecord, StoreError};

use super::MemoryStore;

#[async_trait]
impl ImportStore for MemoryStore {
    async fn get_import(&self, key_id: &str) -> Result<Option<ImportRecord>, StoreError> {
        Ok(self.maps().imports.get(key_id).cloned())
    }

    async fn save_material(
        &self,
        key: &KeyRecord,
        wrapped: &[u8],
        import: &ImportRecord,
    ) -> Result<(), StoreError> {
        let mut m = self.maps();
        if import.key_id != key.key_id {
            return Err(StoreError::ReferenceNotFound);
        }
        m.check_update(key)?;
        let version = m
            .versions
            .get_mut(&key.primary_version)
            .filter(|v| v.key_id == key.key_id)
            .ok_or(StoreError::ReferenceNotFound)?;
        version.wrapped_material = wrapped.to_vec();
        m.keys.insert(key.key_id.clone(), key.clone());
        let state = m
            .imports
            .entry(key.key_id.clone())
            .or_insert_with(|| import.clone());
        state.fingerprint.clone_from(&import.fingerprint);
        state.material_expire_at = import.material_expire_at;
        Ok(())
    }

    async fn count_failed_unwrap(
        &self,
        key_id: &str,
        limit: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut m = self.maps();
        if !m.keys.contains_key(key_id) {
            return Err(StoreError::ReferenceNotFound);
        }
        let state = m
            .imports
            .entry(key_id.to_owned())
            .or_insert_with(|| ImportRecord::fresh(key_id));
        state.failed_unwraps += 1;
        let revoke = state.failed_unwraps >= limit;
        if revoke {
            state.tokens_not_before = now_ms;
            state.failed_unwraps = 0;
        }
        Ok(revoke)
    }

    async fn revoke_tokens(&self, key_id: &str, now_ms: i64) -> Result<(), StoreError> {
        let mut m = self.maps();
        if !m.keys.contains_key(key_id) {
            return Err(StoreError::ReferenceNotFound);
        }
        let state = m
            .imports
            .entry(key_id.to_owned())
            .or_insert_with(|| ImportRecord::fresh(key_id));
        state.tokens_not_before = now_ms;
        state.failed_unwraps = 0;
        Ok(())
    }
}
