//! The in-memory store's login profiles (RAM users' console password hashes).

use async_trait::async_trait;
use openkms_core::{LoginProfileRecord, LoginStore, StoreError};

use super::MemoryStore;

#[async_trait]
impl LoginStore for MemoryStore {
    async fn create_login_profile(&self, profile: &LoginProfileRecord) -> Result<(), StoreError> {
        let mut m = self.maps();
        if !m.users.contains_key(&profile.user_name) {
            return Err(StoreError::ReferenceNotFound);
        }
        if m.logins.contains_key(&profile.user_name) {
            return Err(StoreError::AlreadyExists);
        }
        m.logins.insert(profile.user_name.clone(), profile.clone());
        Ok(())
    }

    async fn get_login_profile(
        &self,
        user_name: &str,
    ) -> Result<Option<LoginProfileRecord>, StoreError> {
        Ok(self.maps().logins.get(user_name).cloned())
    }

    async fn update_login_profile(&self, profile: &LoginProfileRecord) -> Result<(), StoreError> {
        let mut m = self.maps();
        let Some(stored) = m.logins.get_mut(&profile.user_name) else {
            return Err(StoreError::NotFound);
        };
        let created_at = stored.created_at;
        *stored = LoginProfileRecord {
            created_at,
            ..profile.clone()
        };
        Ok(())
    }

    async fn delete_login_profile(&self, user_name: &str) -> Result<bool, StoreError> {
        Ok(self.maps().logins.remove(user_name).is_some())
    }
}
