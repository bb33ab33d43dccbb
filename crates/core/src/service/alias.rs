//! CreateAlias and alias resolution.
//!
//! Alias names follow §5 of the wire contract: `alias/` followed by 1-255 characters of
//! `[A-Za-z0-9_/-]`, not under the reserved `alias/acs` prefix. An alias points at exactly
//! one key; names are unique, which the store enforces atomically.

use super::{KeyRef, KeyService};
use crate::error::Field;
use crate::error::{InvalidReason, KmsError};
use crate::model::{AliasRecord, KeyState};
use crate::store::StoreError;

/// Longest alias name after the `alias/` prefix (Alibaba's rule).
const MAX_ALIAS_SUFFIX: usize = 255;
/// Longest alias name, `alias/` included, in bytes (its characters are ASCII).
pub const MAX_ALIAS_NAME_BYTES: usize = "alias/".len() + MAX_ALIAS_SUFFIX;

impl KeyService {
    /// Creates `name` pointing at the key `key`.
    pub async fn create_alias(&self, name: &str, key: &KeyRef) -> Result<(), KmsError> {
        validate_alias_name(name)?;
        let key_id = self.resolve(key).await?;
        let cached = self.load_key(&key_id).await?;
        if cached.record.state == KeyState::PendingDeletion {
            return Err(KmsError::StateModifiedFailed);
        }
        let record = AliasRecord {
            name: name.to_owned(),
            key_id: key_id.clone(),
            created_at: self.clock.now(),
        };
        let _admitted = self.admit_alias(&key_id, name).await?;
        match self.store.create_alias(&record).await {
            Ok(()) => {
                self.cache.changed_alias(name, Some(&key_id));
                Ok(())
            }
            Err(StoreError::AlreadyExists) => Err(KmsError::AliasAlreadyExists),
            Err(StoreError::ReferenceNotFound) => Err(KmsError::KeyNotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// UpdateAlias: points an existing alias at another key (which must not be pending
    /// deletion).
    pub async fn update_alias(&self, name: &str, key: &KeyRef) -> Result<(), KmsError> {
        validate_alias_name(name)?;
        let key_id = self.resolve(key).await?;
        let target = self
            .store
            .get_key(&key_id)
            .await?
            .ok_or(KmsError::KeyNotFound)?;
        if target.state == KeyState::PendingDeletion {
            return Err(KmsError::KeyStateRejected(KeyState::PendingDeletion));
        }
        let record = AliasRecord {
            name: name.to_owned(),
            key_id: key_id.clone(),
            created_at: self.clock.now(),
        };
        let _admitted = self.admit_alias(&key_id, name).await?;
        match self.store.update_alias(&record).await {
            Ok(()) => {
                self.cache.changed_alias(name, Some(&key_id));
                Ok(())
            }
            Err(StoreError::NotFound) => Err(KmsError::AliasNotFound),
            Err(StoreError::ReferenceNotFound) => Err(KmsError::KeyNotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// DeleteAlias.
    pub async fn delete_alias(&self, name: &str) -> Result<(), KmsError> {
        let existed = self.store.delete_alias(name).await?;
        self.cache.changed_alias(name, None);
        match existed {
            true => Ok(()),
            false => Err(KmsError::AliasNotFound),
        }
    }

    /// The key id an alias points at.
    pub(crate) async fn resolve_alias(&self, name: &str) -> Result<String, KmsError> {
        if let Some(key_id) = self.cache.alias(name) {
            return Ok(key_id);
        }
        let generation = self.cache.alias_generation();
        let alias = self
            .store
            .get_alias(name)
            .await?
            .ok_or(KmsError::AliasNotFound)?;
        self.cache
            .put_loaded_alias(&alias.name, &alias.key_id, generation);
        Ok(alias.key_id)
    }
}

/// Checks an alias name against §5.
pub fn validate_alias_name(name: &str) -> Result<(), KmsError> {
    let bad = |reason| KmsError::invalid(Field::AliasName, reason);
    let suffix = name
        .strip_prefix("alias/")
        .ok_or(bad(InvalidReason::BadFormat))?;
    if suffix.is_empty() || suffix.len() > MAX_ALIAS_SUFFIX {
        return Err(bad(InvalidReason::BadFormat));
    }
    if !suffix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'/' || b == b'-')
    {
        return Err(bad(InvalidReason::BadFormat));
    }
    if suffix.starts_with("acs") {
        return Err(bad(InvalidReason::ReservedPrefix));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate_alias_name;

    #[test]
    fn alias_rules() {
        assert!(validate_alias_name("alias/Apollo/WorkKey").is_ok());
        assert!(validate_alias_name("alias/a-b_c/1").is_ok());
        assert!(validate_alias_name(&format!("alias/{}", "a".repeat(255))).is_ok());
        assert!(validate_alias_name(&format!("alias/{}", "a".repeat(256))).is_err());
        assert!(validate_alias_name("alias/").is_err());
        assert!(validate_alias_name("Apollo/WorkKey").is_err());
        assert!(validate_alias_name("alias/has space").is_err());
        assert!(validate_alias_name("alias/acs/x").is_err());
        assert!(validate_alias_name("alias/acsfoo").is_err());
    }
}
