//! [`RewrapStore`] of the [`MemoryStore`]: the blobs read and replaced under the one lock.

use async_trait::async_trait;
use openkms_core::{ProtectionLevel, Rewrap, RewrapStore, StoreError, WrappedBlob, WrappedRow};

use super::{Maps, MemoryStore};

#[async_trait]
impl RewrapStore for MemoryStore {
    async fn wrapped_blobs(&self) -> Result<Vec<WrappedBlob>, StoreError> {
        let maps = self.maps();
        let versions = maps.versions.values().map(|v| WrappedBlob {
            row: WrappedRow::Version {
                key_id: v.key_id.clone(),
                version_id: v.version_id.clone(),
                software: maps
                    .keys
                    .get(&v.key_id)
                    .is_some_and(|k| k.protection_level == ProtectionLevel::Software),
            },
            bytes: v.wrapped_material.clone(),
        });
        let access = maps.access.values().map(|a| WrappedBlob {
            row: WrappedRow::AccessKey {
                access_key_id: a.access_key_id.clone(),
            },
            bytes: a.wrapped_secret.clone(),
        });
        Ok(versions.chain(access).collect())
    }

    async fn replace_wrapped(&self, changes: &[Rewrap]) -> Result<(), StoreError> {
        let mut maps = self.maps();
        if !changes
            .iter()
            .all(|c| maps.slot(&c.row).is_some_and(|s| *s == c.old))
        {
            return Err(StoreError::Conflict);
        }
        for change in changes {
            if let Some(slot) = maps.slot(&change.row) {
                slot.clone_from(&change.new);
            }
        }
        Ok(())
    }
}

impl Maps {
    /// Where a wrapped blob is kept.
    fn slot(&mut self, row: &WrappedRow) -> Option<&mut Vec<u8>> {
        match row {
            WrappedRow::Version { version_id, .. } => self
                .versions
                .get_mut(version_id)
                .map(|v| &mut v.wrapped_material),
            WrappedRow::AccessKey { access_key_id } => self
                .access
                .get_mut(access_key_id)
                .map(|a| &mut a.wrapped_secret),
            WrappedRow::Meta { name } => self.meta.get_mut(name),
        }
    }
}
