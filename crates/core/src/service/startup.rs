//! Opening the service over a store: root-key check, cursor key and account identity.
//!
//! At the first start of a data directory the root key's check value, the wrapped cursor key
//! and the account id are recorded; at every later start the root key must open the check
//! value, or the service refuses to start (a wrong root key must never silently create a
//! second world of keys). Reading the root key (file, shares, token) is not done here.

use std::sync::Arc;

use super::{KeyService, ServiceConfig, cache::KeyCache};
use crate::clock::Clock;
use crate::error::KmsError;
use crate::provider::{KeyProvider, SoftwareProvider};
use crate::random::{SecureRandom, random_string};
use crate::rootkey::{CursorKey, RootKey, RootSeal, check_value, verify_check};
use crate::store::{Store, StoreError};

/// Meta name of the root key check value.
pub(crate) const META_ROOT_CHECK: &str = "root_key_check";
/// Meta name of the account id.
pub(crate) const META_ACCOUNT: &str = "account_id";
/// Meta name of the cursor key, wrapped under the root key.
pub(crate) const META_CURSOR_KEY: &str = "cursor_key";

/// Why the service could not open.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The root key does not open the data (wrong key, or the data belong to another key).
    #[error("the root key does not match this data directory")]
    WrongRootKey,
    /// The configured account id differs from the one the data were created with.
    #[error(
        "account id {configured} differs from {stored}, which this data directory was created with"
    )]
    AccountMismatch {
        /// The configured value.
        configured: String,
        /// The stored value.
        stored: String,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The root key's custody failed (a token that refuses to wrap, for instance).
    #[error("root key custody: {0}")]
    Custody(KmsError),
}

impl KeyService {
    /// Opens the service with the software key provider (key material wrapped under `root`),
    /// checking the root key and settling the account id.
    pub async fn open(
        store: Arc<dyn Store>,
        root: RootKey,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn SecureRandom>,
        config: ServiceConfig,
    ) -> Result<Self, StartupError> {
        let root: Arc<dyn RootSeal> = Arc::new(root);
        let provider = Arc::new(SoftwareProvider::new(root.clone(), rng.clone()));
        Self::open_with_provider(store, root, provider, clock, rng, config).await
    }

    /// Opens the service with the key provider `provider`; `root` still wraps AccessKey
    /// secrets, the cursor key and the check value.
    pub async fn open_with_provider(
        store: Arc<dyn Store>,
        root: Arc<dyn RootSeal>,
        provider: Arc<dyn KeyProvider>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn SecureRandom>,
        config: ServiceConfig,
    ) -> Result<Self, StartupError> {
        check_root_key(store.as_ref(), root.as_ref(), rng.as_ref()).await?;
        let cursor_key = settle_cursor_key(store.as_ref(), root.as_ref(), rng.as_ref()).await?;
        let account_id = settle_account(store.as_ref(), rng.as_ref(), config.account_id).await?;
        Ok(Self {
            store,
            root,
            cursor_key,
            provider,
            hsm: None,
            budgets: Default::default(),
            clock: clock.clone(),
            rng,
            region_id: config.region_id,
            account_id,
            cache: KeyCache::new(clock.clone(), config.cache_ttl_ms),
            shared_store: config.cache_ttl_ms.is_some(),
            key_pages: super::pages::PageMemo::new(),
            alias_pages: super::pages::PageMemo::new(),
            quotas: super::Quotas::default(),
            gates: super::QuotaGates::default(),
            heavy: super::heavy::HeavyWork::per_core(),
            pair_generation: super::heavy::HeavyWork::bounded(
                super::keys::GENERATION_PERMITS,
                super::keys::GENERATION_QUEUE,
            ),
            token_generation: super::heavy::HeavyWork::bounded(
                super::keys::GENERATION_PERMITS,
                super::keys::GENERATION_QUEUE,
            ),
            token_loads: super::heavy::HeavyWork::per_core(),
            wrapping_keys: super::heavy::HeavyWork::bounded(
                super::imports::WRAPPING_KEY_PERMITS,
                super::imports::WRAPPING_KEY_QUEUE,
            ),
        })
    }
}

async fn check_root_key(
    store: &dyn Store,
    root: &dyn RootSeal,
    rng: &dyn SecureRandom,
) -> Result<(), StartupError> {
    if let Some(check) = store.get_meta(META_ROOT_CHECK).await? {
        return match verify_check(root, &check) {
            true => Ok(()),
            false => Err(StartupError::WrongRootKey),
        };
    }
    if !store.is_empty().await? {
        return Err(StartupError::WrongRootKey);
    }
    let check = check_value(root, rng).map_err(StartupError::Custody)?;
    if !store.put_meta_if_absent(META_ROOT_CHECK, &check).await? {
        // Another node initialised the store at the same moment: check against its value.
        return Box::pin(check_root_key(store, root, rng)).await;
    }
    Ok(())
}

/// The cursor key the store holds, made and stored at the first start of this version (by
/// whichever node gets there first).
async fn settle_cursor_key(
    store: &dyn Store,
    root: &dyn RootSeal,
    rng: &dyn SecureRandom,
) -> Result<CursorKey, StartupError> {
    if store.get_meta(META_CURSOR_KEY).await?.is_none() {
        let wrapped = CursorKey::generate(rng)
            .wrap_under(root, rng)
            .map_err(StartupError::Custody)?;
        store.put_meta_if_absent(META_CURSOR_KEY, &wrapped).await?;
    }
    let wrapped = store.get_meta(META_CURSOR_KEY).await?.unwrap_or_default();
    CursorKey::unwrap_from(root, &wrapped).map_err(|_| StartupError::WrongRootKey)
}

async fn settle_account(
    store: &dyn Store,
    rng: &dyn SecureRandom,
    configured: Option<String>,
) -> Result<String, StartupError> {
    let candidate = configured
        .clone()
        .unwrap_or_else(|| generate_account_id(rng));
    store
        .put_meta_if_absent(META_ACCOUNT, candidate.as_bytes())
        .await?;
    let stored = store.get_meta(META_ACCOUNT).await?.unwrap_or_default();
    let stored = String::from_utf8(stored).map_err(|_| StoreError::Corrupt("account id".into()))?;
    match configured {
        Some(c) if c != stored => Err(StartupError::AccountMismatch {
            configured: c,
            stored,
        }),
        _ => Ok(stored),
    }
}

/// A 16-digit account id like Alibaba's account UIDs, not starting with 0.
fn generate_account_id(rng: &dyn SecureRandom) -> String {
    let first = random_string(rng, b"123456789", 1);
    first + &random_string(rng, b"0123456789", 15)
}

impl KeyService {
    /// Whether the service can serve: the store answers and holds this root key's check value.
    pub async fn ready(&self) -> bool {
        matches!(self.store.get_meta(META_ROOT_CHECK).await, Ok(Some(_)))
    }

    /// Whether `store` already holds data of some root key (so a missing root key is an
    /// error, not a first start).
    pub async fn data_exists(store: &dyn Store) -> Result<bool, StoreError> {
        Ok(store.get_meta(META_ROOT_CHECK).await?.is_some() || !store.is_empty().await?)
    }
}
