//! Reading keys and aliases: DescribeKey, ListKeys with filters, ListAliases.
//!
//! Listings are read from the store (not the cache, which holds only keys in use) and
//! returned whole; paging is the api crate's presentation concern.

use super::{KeyRef, KeyService};
use crate::error::KmsError;
use crate::model::{AliasRecord, KeyRecord};

/// One ListKeys filter: a key must match one of `values` for the attribute `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFilter {
    /// `KeyState`, `KeySpec`, `KeyUsage`, `ProtectionLevel` or `CreatorType`.
    pub key: String,
    /// Accepted values (OR).
    pub values: Vec<String>,
}

impl KeyFilter {
    /// Whether `record` passes this filter; an unknown attribute matches nothing.
    pub fn matches(&self, record: &KeyRecord) -> bool {
        let value = match self.key.as_str() {
            "KeyState" => record.state.as_str(),
            "KeySpec" => record.spec.as_str(),
            "KeyUsage" => record.usage.as_str(),
            "ProtectionLevel" => record.protection_level.as_str(),
            "CreatorType" => "User",
            _ => return false,
        };
        self.values.iter().any(|v| v == value)
    }
}

impl KeyService {
    /// DescribeKey: the record of a key named by id, alias or ARN, in any state.
    pub async fn describe_key(&self, key: &KeyRef) -> Result<KeyRecord, KmsError> {
        let key_id = self.resolve(key).await?;
        self.store
            .get_key(&key_id)
            .await?
            .ok_or(KmsError::KeyNotFound)
    }

    /// ListKeys: keys passing every filter (AND across filters), oldest first.
    pub async fn list_keys(&self, filters: &[KeyFilter]) -> Result<Vec<KeyRecord>, KmsError> {
        let keys = self.store.list_keys().await?;
        Ok(keys
            .into_iter()
            .filter(|k| filters.iter().all(|f| f.matches(k)))
            .collect())
    }

    /// ListAliases / ListAliasesByKeyId: aliases sorted by name.
    pub async fn list_aliases(&self, key: Option<&KeyRef>) -> Result<Vec<AliasRecord>, KmsError> {
        let Some(key) = key else {
            return Ok(self.store.list_aliases(None).await?);
        };
        let key_id = self.resolve(key).await?;
        self.store
            .get_key(&key_id)
            .await?
            .ok_or(KmsError::KeyNotFound)?;
        Ok(self.store.list_aliases(Some(&key_id)).await?)
    }

    /// The ARN of an alias.
    pub fn alias_arn(&self, name: &str) -> String {
        format!("acs:kms:{}:{}:{}", self.region_id, self.account_id, name)
    }
}
