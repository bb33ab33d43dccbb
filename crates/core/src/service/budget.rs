//! The message limit of HSM key versions, enforced durably.
//!
//! A key version of the HSM ciphertext variant ([`MessageFormat::Direct`]) seals every
//! message directly under its key with a random 96-bit nonce, so it may serve at most
//! [`DIRECT_MESSAGE_LIMIT`] encryptions (`docs/ciphertext-format.md`). The count is kept in
//! the store's metadata under `hsm-budget/<version id>` (8 bytes, big-endian: how many
//! encryptions have been *reserved*), raised by compare-and-swap a block at a time before
//! any of the block is used. A node that crashes or is killed loses what it reserved and did
//! not use (at most one block per version), but never hands out the same budget twice, and
//! every node sharing the store draws from the same count. When the count reaches the limit,
//! Encrypt with that version is refused with [`KmsError::KeyVersionExhausted`] until a new
//! version (CreateKeyVersion, or automatic rotation) becomes the primary.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::ciphertext::DIRECT_MESSAGE_LIMIT;
use crate::error::KmsError;
use crate::store::{Store, StoreError};

/// Encryptions reserved per store write; what a crash may waste per version and node.
const BLOCK: u64 = 4096;
/// Compare-and-swap attempts before giving up as contended.
const MAX_ATTEMPTS: usize = 64;

/// Each HSM version's reserved block on this node.
pub(crate) struct Budgets {
    limit: u64,
    blocks: Mutex<HashMap<String, Block>>,
}

/// The part of a reservation still unused here: `next..end`.
#[derive(Debug, Clone, Copy)]
struct Block {
    next: u64,
    end: u64,
}

/// The prefix of the metadata names of the counts (a backup carries them).
pub(crate) const META_PREFIX: &str = "hsm-budget/";

/// The metadata name of a version's count.
pub(crate) fn meta_name(version_id: &str) -> String {
    format!("{META_PREFIX}{version_id}")
}

impl Default for Budgets {
    fn default() -> Self {
        Self::with_limit(DIRECT_MESSAGE_LIMIT)
    }
}

impl Budgets {
    /// Budgets of `limit` encryptions per version (the format's limit, or less in tests).
    pub(crate) fn with_limit(limit: u64) -> Self {
        Self {
            limit,
            blocks: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one encryption from `version_id`'s budget, reserving a new block in `store`
    /// when this node's is used up.
    pub(crate) async fn take(&self, store: &dyn Store, version_id: &str) -> Result<(), KmsError> {
        if self.take_local(version_id) {
            return Ok(());
        }
        let block = self.reserve(store, version_id).await?;
        let mut blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
        let current = blocks.get(version_id).copied();
        if current.is_none_or(|b| b.next >= b.end) {
            blocks.insert(version_id.to_owned(), block);
        }
        Ok(())
    }

    fn take_local(&self, version_id: &str) -> bool {
        let mut blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
        match blocks.get_mut(version_id) {
            Some(b) if b.next < b.end => {
                b.next += 1;
                true
            }
            _ => false,
        }
    }

    /// Raises the stored count by up to one block; the first of the block is taken for the
    /// caller, the rest returned.
    async fn reserve(&self, store: &dyn Store, version_id: &str) -> Result<Block, KmsError> {
        let name = meta_name(version_id);
        for _ in 0..MAX_ATTEMPTS {
            let stored = store.get_meta(&name).await?;
            let used = match &stored {
                Some(bytes) => decode(bytes)?,
                None => 0,
            };
            if used >= self.limit {
                return Err(KmsError::KeyVersionExhausted);
            }
            let end = used.saturating_add(BLOCK).min(self.limit);
            let written = match &stored {
                Some(bytes) => store.replace_meta_if(&name, bytes, &encode(end)).await?,
                None => store.put_meta_if_absent(&name, &encode(end)).await?,
            };
            if written {
                return Ok(Block {
                    next: used + 1,
                    end,
                });
            }
        }
        Err(KmsError::Contended)
    }
}

fn encode(count: u64) -> [u8; 8] {
    count.to_be_bytes()
}

fn decode(bytes: &[u8]) -> Result<u64, KmsError> {
    let bytes: [u8; 8] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("hsm budget".into()))?;
    Ok(u64::from_be_bytes(bytes))
}
