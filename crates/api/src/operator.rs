//! The Shamir seal of a running server: initialise, unseal share by share, seal, status.
//!
//! [`Operator`] owns this node's unseal progress (the shares submitted so far, in memory and
//! wiped on drop) and fills or empties the [`ServiceSlot`]. The shares' record lives in the
//! store ([`openkms_core::unseal`]), so every node sharing it is unsealed on its own with the
//! same shares. Opening the key service once the root key is back is the binary's (it knows
//! the quotas and settings): it hands in an [`Opener`]. One lock serialises init, unseal and
//! seal, so two shares arriving at once cannot both complete the key.
//!
//! After `init` the server stays sealed, as Vault's does: the shares are proven by unsealing
//! with them before any key is stored under the root key they give. The wire form (paths,
//! JSON bodies, the audit line) is `handler/operator.rs`'s.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use openkms_core::service::RootAccessKey;
use openkms_core::shamir::SplitError;
use openkms_core::unseal::{self, InitError, Progress, ShareRefused, Submitted};
use openkms_core::{KeyService, KmsError, RootKey, SecretBytes, SecureRandom, Store, StoreError};
use tokio::sync::Mutex;

use crate::slot::ServiceSlot;
use crate::throttle::{FailureRate, SourceThrottle};

/// Why the service could not be opened with a root key (told to the operator's log only).
pub type OpenError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the key service with a root key put together from shares (the binary's startup
/// steps: check value, quotas).
pub trait Opener: Send + Sync + 'static {
    /// The service over the store with `root`.
    fn open(&self, root: RootKey) -> BoxFuture<'_, Result<Arc<KeyService>, OpenError>>;
}

/// Init and unseal requests a source may make at once, and a minute after that: a ceremony
/// with a few dozen shares goes through, guessing does not.
const OPERATOR_RATE: FailureRate = FailureRate {
    burst: 30,
    per_minute: 30,
    sources: 4096,
};

/// Where this node's seal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Whether the store has a Shamir seal (`operator init` was run).
    pub initialized: bool,
    /// Whether this node is sealed.
    pub sealed: bool,
    /// Shares needed to unseal (0 before init).
    pub threshold: u8,
    /// Shares made at init (0 before init).
    pub shares: u8,
    /// Shares this node has collected towards the threshold.
    pub progress: u8,
}

/// What `init` hands out, once. No `Debug`: it holds the shares and a secret.
pub struct Initialized {
    /// The shares' text forms.
    pub shares: Vec<SecretBytes>,
    /// Shares needed to unseal.
    pub threshold: u8,
    /// The root AccessKey made at init.
    pub root_access_key: RootAccessKey,
}

/// Why an operator request was refused.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// `init` on a store that already has a Shamir seal.
    #[error("already initialized")]
    AlreadyInitialized,
    /// `init` on a store holding keys of another root key.
    #[error("store not empty")]
    NotEmpty,
    /// `init` with share counts out of range.
    #[error(transparent)]
    Parameters(#[from] SplitError),
    /// A submitted share was refused (progress kept).
    #[error(transparent)]
    Share(#[from] ShareRefused),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The service would not open with the root key (the cause is in the server's log).
    #[error("cannot open the key service")]
    Open,
    /// The key service failed (making the root AccessKey).
    #[error(transparent)]
    Kms(#[from] KmsError),
}

impl From<InitError> for OperatorError {
    fn from(e: InitError) -> Self {
        match e {
            InitError::Parameters(p) => Self::Parameters(p),
            InitError::AlreadyInitialised => Self::AlreadyInitialized,
            InitError::NotEmpty => Self::NotEmpty,
            InitError::Store(s) => Self::Store(s),
        }
    }
}

/// This node's seal: the slot it fills, the progress it keeps.
pub struct Operator {
    slot: Arc<ServiceSlot>,
    store: Arc<dyn Store>,
    opener: Arc<dyn Opener>,
    rng: Arc<dyn SecureRandom>,
    progress: Mutex<Progress>,
    throttle: SourceThrottle,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator")
            .field("slot", &self.slot)
            .finish_non_exhaustive()
    }
}

impl Operator {
    /// The seal of a node whose service goes into `slot`, opened by `opener` over `store`.
    pub fn new(
        slot: Arc<ServiceSlot>,
        store: Arc<dyn Store>,
        opener: Arc<dyn Opener>,
        rng: Arc<dyn SecureRandom>,
    ) -> Self {
        Self {
            slot,
            store,
            opener,
            rng,
            progress: Mutex::new(Progress::default()),
            throttle: SourceThrottle::new(OPERATOR_RATE),
        }
    }

    /// The throttle of init and unseal requests.
    pub fn throttle(&self) -> &SourceThrottle {
        &self.throttle
    }

    /// Where the seal stands.
    pub async fn status(&self) -> Result<Status, OperatorError> {
        let progress = self.progress.lock().await.have();
        self.status_with(progress).await
    }

    async fn status_with(&self, progress: u8) -> Result<Status, OperatorError> {
        let record = unseal::read_record(self.store.as_ref()).await?;
        Ok(Status {
            initialized: record.is_some(),
            sealed: self.slot.is_sealed(),
            threshold: record.as_ref().map_or(0, |r| r.threshold()),
            shares: record.as_ref().map_or(0, |r| r.shares()),
            progress,
        })
    }

    /// Makes the root key over an empty store, splits it, makes the root AccessKey; the node
    /// stays sealed.
    pub async fn init(&self, shares: u32, threshold: u32) -> Result<Initialized, OperatorError> {
        let _serial = self.progress.lock().await;
        if !self.slot.is_sealed() {
            return Err(OperatorError::AlreadyInitialized);
        }
        let rng = self.rng.as_ref();
        let (root, split) = unseal::initialise(self.store.as_ref(), rng, shares, threshold).await?;
        // Checked by `initialise`.
        let threshold = u8::try_from(threshold).unwrap_or(u8::MAX);
        let service = self.open(root).await?;
        let root_access_key = RootAccessKey::generate(&service);
        service.ensure_root_access_key(&root_access_key).await?;
        tracing::info!(
            shares = split.len(),
            threshold,
            "Shamir seal initialised; the server stays sealed until unsealed with the shares"
        );
        Ok(Initialized {
            shares: split.iter().map(|s| s.to_text()).collect(),
            threshold,
            root_access_key,
        })
    }

    /// Takes one share; at the threshold opens the service and unseals. A refused share
    /// leaves the progress as it was. On an unsealed node the share is not looked at.
    pub async fn unseal(&self, share: &str) -> Result<Status, OperatorError> {
        let mut progress = self.progress.lock().await;
        if !self.slot.is_sealed() {
            return self.status_with(0).await;
        }
        let Some(record) = unseal::read_record(self.store.as_ref()).await? else {
            return Err(ShareRefused::NotInitialised.into());
        };
        match progress.submit(&record, share)? {
            Submitted::Need { have, .. } => self.status_with(have).await,
            Submitted::Complete(root) => {
                let service = self.open(root).await?;
                self.slot.fill(service);
                tracing::info!("unsealed");
                self.status_with(0).await
            }
        }
    }

    /// Seals the node: empties the slot and forgets any progress. Whether it was unsealed.
    pub async fn seal(&self) -> bool {
        let mut progress = self.progress.lock().await;
        progress.clear();
        let was = self.slot.empty();
        if was {
            tracing::info!("sealed: the key service and its keys are dropped");
        }
        was
    }

    async fn open(&self, root: RootKey) -> Result<Arc<KeyService>, OperatorError> {
        self.opener.open(root).await.map_err(|e| {
            tracing::error!(error = %e, "the key service would not open with the unsealed root key");
            OperatorError::Open
        })
    }
}
