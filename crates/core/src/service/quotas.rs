//! Resource quotas: how many keys, aliases per key, versions per key, RAM users and secrets
//! may exist.
//!
//! Every front end reaches these through the [`KeyService`] use cases, so the limits hold
//! whatever protocol asked. A create that would take a count past its quota fails with
//! [`KmsError::LimitExceeded`] and writes nothing.
//!
//! **Race guarantee.** A create counts what exists, then writes, while holding the
//! [`QuotaGates`] lock of its resource kind, so creates of one kind on one node are serialized
//! and never pass the quota. A node cannot lock out another: with N nodes sharing a PostgreSQL
//! database, concurrent creates can end at most N − 1 over a quota (each node's gate admits one
//! create at a time). Versions are exact on every backend and across nodes as well: a new
//! version changes its key's revision, so of two racing rotations one fails its conditional
//! write and retries, counting again. The count reads the store (`list_*`), which is fine for
//! these rare administrative writes; Encrypt and Decrypt never touch a gate.
//!
//! Tags per key (20, the wire contract's rule, answered `InvalidParameter`) and AccessKeys per
//! user (2, RAM's `LimitExceeded.User.AccessKey`) are enforced atomically by the store and are
//! not part of [`Quotas`].

use futures_util::lock::{Mutex, MutexGuard};

use super::KeyService;
use crate::error::KmsError;

/// How many resources of each kind may exist. `usize::MAX` lifts a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Keys in the account (every state until destroyed). Alibaba's wire contract gives no
    /// number; 100,000 bounds a flood of CreateKey without meeting real deployments.
    pub keys: usize,
    /// Aliases pointing at one key. No Alibaba number in the contract; 100.
    pub aliases_per_key: usize,
    /// Versions of one key made by CreateKeyVersion (automatic rotation is not refused: it is
    /// bounded by its interval, at least 7 days). No Alibaba number in the contract; 1,000.
    pub versions_per_key: usize,
    /// RAM users (the root identity not counted). No number in the contract; 10,000.
    pub users: usize,
    /// Secrets (every one until destroyed, those pending deletion too). No number in the
    /// contract; 100,000, as for keys.
    pub secrets: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            keys: 100_000,
            aliases_per_key: 100,
            versions_per_key: 1_000,
            users: 10_000,
            secrets: 100_000,
        }
    }
}

/// One lock per resource kind whose quota is counted outside the store's own transaction.
#[derive(Debug, Default)]
pub(crate) struct QuotaGates {
    keys: Mutex<()>,
    aliases: Mutex<()>,
    users: Mutex<()>,
    secrets: Mutex<()>,
}

impl KeyService {
    /// The quotas in force.
    pub fn quotas(&self) -> Quotas {
        self.quotas
    }

    /// Waits for the key-creation gate and checks that one more key fits; hold the guard until
    /// the key is written.
    pub(crate) async fn admit_key(&self) -> Result<MutexGuard<'_, ()>, KmsError> {
        let gate = self.gates.keys.lock().await;
        let keys = self.store.list_keys().await?.len();
        within(keys, self.quotas.keys)?;
        Ok(gate)
    }

    /// Waits for the alias gate and checks that the alias `name` fits on `key_id` (it is not
    /// counted if it points there already); hold the guard until the alias is written.
    pub(crate) async fn admit_alias(
        &self,
        key_id: &str,
        name: &str,
    ) -> Result<MutexGuard<'_, ()>, KmsError> {
        let gate = self.gates.aliases.lock().await;
        let aliases = self.store.list_aliases(Some(key_id)).await?;
        let others = aliases.iter().filter(|a| a.name != name).count();
        within(others, self.quotas.aliases_per_key)?;
        Ok(gate)
    }

    /// Waits for the user gate and checks that one more RAM user fits; hold the guard until the
    /// user is written.
    pub(crate) async fn admit_user(&self) -> Result<MutexGuard<'_, ()>, KmsError> {
        let gate = self.gates.users.lock().await;
        let users = self.store.list_users().await?;
        let counted = users
            .iter()
            .filter(|u| u.user_name != super::ROOT_USER)
            .count();
        within(counted, self.quotas.users)?;
        Ok(gate)
    }

    /// Waits for the secret gate and checks that one more secret fits (counted by pages of the
    /// store's listing, stopping at the quota); hold the guard until the secret is written.
    pub(crate) async fn admit_secret(&self) -> Result<MutexGuard<'_, ()>, KmsError> {
        let gate = self.gates.secrets.lock().await;
        let (mut counted, mut after) = (0usize, None::<String>);
        while counted < self.quotas.secrets {
            let page = self.store.page_secrets(after.as_deref(), 500).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.name.clone());
            counted = counted.saturating_add(page.len());
        }
        within(counted, self.quotas.secrets)?;
        Ok(gate)
    }

    /// Checks that `key_id` may get one more version by CreateKeyVersion. Called inside the
    /// rotation's conditional-write loop, so a racing rotation makes it count again.
    pub(crate) async fn admit_version(&self, key_id: &str) -> Result<(), KmsError> {
        let versions = self.store.list_versions(key_id).await?.len();
        within(versions, self.quotas.versions_per_key)
    }
}

/// `Ok` when one more fits beside `count` under `quota`.
fn within(count: usize, quota: usize) -> Result<(), KmsError> {
    match count < quota {
        true => Ok(()),
        false => Err(KmsError::LimitExceeded),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_refuses_at_the_quota() {
        assert!(within(0, 1).is_ok());
        assert!(matches!(within(1, 1), Err(KmsError::LimitExceeded)));
        assert!(matches!(within(0, 0), Err(KmsError::LimitExceeded)));
        assert!(within(5, usize::MAX).is_ok());
    }
}
