//! The in-memory store's import state of EXTERNAL keys (BYOK).

use async_trait::async_trait;
use openkms_core::{ImportRecord, ImportStore, KeyRecord, StoreError};

use super::{Maps, MemoryStore};

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
        issued_ms: i64,
    ) -> Result<(), StoreError> {
        let mut m = self.maps();
        if import.key_id != key.key_id {
            return Err(StoreError::ReferenceNotFound);
        }
        m.check_update(key)?;
        check_version(&m, key)?;
        if let Some(stored) = m.imports.get(&key.key_id) {
            if stored.tokens_not_before > issued_ms {
                return Err(StoreError::TokenRevoked);
            }
            if stored.fingerprint.is_some() && stored.fingerprint != import.fingerprint {
                return Err(StoreError::MaterialMismatch);
            }
        }
        write_material(&mut m, key, wrapped);
        let state = m
            .imports
            .entry(key.key_id.clone())
            .or_insert_with(|| import.clone());
        if state.fingerprint.is_none() {
            state.fingerprint.clone_from(&import.fingerprint);
        }
        state.material_expire_at = import.material_expire_at;
        state.failed_unwraps = (state.failed_unwraps - 1).max(0);
        Ok(())
    }

    async fn delete_material(
        &self,
        key: &KeyRecord,
        now_ms: i64,
        disabled: bool,
    ) -> Result<(), StoreError> {
        let mut m = self.maps();
        m.check_update(key)?;
        check_version(&m, key)?;
        write_material(&mut m, key, &[]);
        let state = m
            .imports
            .entry(key.key_id.clone())
            .or_insert_with(|| ImportRecord::fresh(&key.key_id));
        state.tokens_not_before = now_ms;
        state.failed_unwraps = 0;
        state.disabled_before_delete = disabled;
        Ok(())
    }

    async fn reserve_unwrap(
        &self,
        key_id: &str,
        issued_ms: i64,
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
        if state.tokens_not_before > issued_ms {
            return Ok(false);
        }
        if state.failed_unwraps >= limit {
            state.tokens_not_before = now_ms;
            state.failed_unwraps = 0;
            return Ok(false);
        }
        state.failed_unwraps += 1;
        Ok(true)
    }

    async fn settle_failed_unwrap(
        &self,
        key_id: &str,
        limit: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut m = self.maps();
        let Some(state) = m.imports.get_mut(key_id) else {
            return Ok(false);
        };
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

/// `ReferenceNotFound` unless `key`'s primary version belongs to it.
fn check_version(m: &Maps, key: &KeyRecord) -> Result<(), StoreError> {
    m.versions
        .get(&key.primary_version)
        .filter(|v| v.key_id == key.key_id)
        .map(|_| ())
        .ok_or(StoreError::ReferenceNotFound)
}

/// Writes `key`'s record and its primary version's material (checked by [`check_version`]).
fn write_material(m: &mut Maps, key: &KeyRecord, wrapped: &[u8]) {
    if let Some(version) = m.versions.get_mut(&key.primary_version) {
        version.wrapped_material = wrapped.to_vec();
    }
    m.keys.insert(key.key_id.clone(), key.clone());
}
