//! The key service: the use cases of the KMS, over a [`Store`], a [`Clock`] and a random source.
//!
//! [`KeyService`] validates typed inputs, applies the domain rules (key states, alias names,
//! size limits), seals and opens data through its [`KeyProvider`], and keeps an in-memory cache
//! of loaded key versions so that Encrypt and Decrypt do not touch the store once a key is
//! warm. It knows nothing of HTTP, parameters as strings on the wire, or response shapes: the
//! api crate turns requests into calls here and results into replies. Each use case lives in
//! its own submodule.

pub(crate) mod access;
mod alias;
mod asymmetric;
mod authorize;
mod budget;
pub(crate) use budget::META_PREFIX as HSM_BUDGET_META_PREFIX;
mod cache;
mod crypto_ops;
mod cursors;
mod heavy;
mod identity;
mod imports;
mod jobs;
mod key_policy;
mod keys;
mod lifecycle;
mod listing;
mod login;
mod pages;
mod quotas;
pub mod secrets;
mod startup;
mod tags;
mod versions;

use crate::error::Field;
use std::sync::Arc;

/// Longest key reference accepted, in bytes: an alias ARN is `acs:kms:<region>:<account>:`
/// (about 60 bytes) and `alias/` with at most 255 characters (Alibaba's alias rule); key ids
/// here are 40 characters.
pub const MAX_KEY_REF_BYTES: usize = 512;

pub(crate) use access::META_ROOT_AK;
pub use access::{Credential, Derived, RootAccessKey};
pub use alias::MAX_ALIAS_NAME_BYTES;
pub use asymmetric::{
    PairBytesOutput, PairDecryptOutput, PairVersion, PublicKeyOutput, VerifyOutput,
};
pub use authorize::{AccessRequest, Target, default_key_policy};
pub use crypto_ops::{
    DataKeyOutput, DecryptOutput, EncryptOutput, MAX_DATA_KEY_BYTES, MAX_PLAINTEXT_BYTES,
    ReEncryptOutput,
};
pub use identity::{
    AttachedPolicy, MAX_ACCESS_KEYS_PER_USER, NewAccessKey, NewUser, PolicyCursor, PolicyView,
    ROOT_USER, system_policies,
};
pub use imports::ImportParametersOutput;
pub use jobs::DueWork;
pub use key_policy::KEY_POLICY_NAME;
pub use keys::{
    CreateKeyInput, GENERATION_QUEUE, MAX_DESCRIPTION_CHARS, MAX_POLICY_BYTES, MAX_TAGS,
};
pub use lifecycle::{PENDING_WINDOW_DAYS, ROTATION_BOUNDS};
pub use listing::{KeyFilter, ListPage, TagPage};
pub use login::{
    LoginProfileInput, LoginProfileView, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordCheck,
};
pub use pages::MAX_ENTRIES as MAX_PAGE_BOUNDARIES;
pub use quotas::Quotas;
pub use startup::StartupError;
pub(crate) use startup::{META_ACCOUNT, META_CURSOR_KEY, META_ROOT_CHECK};

use crate::clock::Clock;
use crate::error::KmsError;
use crate::provider::KeyProvider;
use crate::random::SecureRandom;
use crate::rootkey::{CursorKey, RootSeal};
use crate::store::Store;
use cache::KeyCache;
use quotas::QuotaGates;

/// Settings that shape identifiers: the region and account in ARNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// The region id shown in ARNs (for example `cn-hangzhou`).
    pub region_id: String,
    /// The account id shown in ARNs and as `Creator`; `None` to keep (or at first start,
    /// generate) the one the data directory was created with.
    pub account_id: Option<String>,
    /// How long cached keys, aliases and AccessKeys are trusted before being read again, in
    /// milliseconds: needed when other nodes share the store; `None` for a single node.
    pub cache_ttl_ms: Option<i64>,
}

/// The KMS use cases. Cheap to share behind an `Arc`.
pub struct KeyService {
    store: Arc<dyn Store>,
    /// Wraps AccessKey secrets, the cursor key and the check value (key material is the
    /// provider's).
    root: Arc<dyn RootSeal>,
    /// Seals listing cursors.
    cursor_key: CursorKey,
    /// Custody of key version material (`ProtectionLevel=SOFTWARE` keys).
    provider: Arc<dyn KeyProvider>,
    /// Custody of `ProtectionLevel=HSM` keys, when a token is configured.
    hsm: Option<Arc<dyn KeyProvider>>,
    /// The message limits of HSM key versions (the HSM ciphertext variant).
    budgets: budget::Budgets,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn SecureRandom>,
    region_id: String,
    account_id: String,
    cache: KeyCache,
    /// Whether other nodes share the store (then nonces are recorded there too).
    shared_store: bool,
    /// Where numbered pages of key listings start (see `pages`).
    key_pages: pages::PageMemo<crate::store::KeyCursor>,
    /// Where numbered pages of alias listings start.
    alias_pages: pages::PageMemo<String>,
    /// How many keys, aliases, versions and users may exist.
    quotas: Quotas,
    /// Serializes the creates whose quota is counted outside the store's transaction.
    gates: QuotaGates,
    /// Where CPU work runs: private-key operations and the loading of software key pairs
    /// (`heavy`). Nothing on it waits for the token's object lock.
    heavy: heavy::HeavyWork,
    /// Where key pairs are generated (any level): one at a time with a bounded queue
    /// (`heavy`), so a burst of creates (an RSA_4096 pair takes seconds) neither delays the
    /// work on `heavy` nor queues without end.
    pair_generation: heavy::HeavyWork,
    /// Where HSM AES keys are generated (creates and rotations), likewise bounded: a lane
    /// apart from key pairs, so a flood of pair creates does not throttle them; each still
    /// waits for the token's object lock, at most one pair generation at a time.
    token_generation: heavy::HeavyWork,
    /// Where HSM keys are loaded: a token search, which waits while the token makes an object
    /// (`heavy`), so it must not hold a place on `heavy` meanwhile.
    token_loads: heavy::HeavyWork,
    /// Where GetParametersForImport's wrapping keys are generated: a lane of its own, one at
    /// a time with a short bounded queue (`heavy`), so it cannot starve `heavy`.
    wrapping_keys: heavy::HeavyWork,
}

/// How a request names a key: by id (or key ARN) or by alias (or alias ARN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A key id.
    Id(String),
    /// A full alias name, `alias/...`.
    Alias(String),
}

impl KeyService {
    /// The region id in ARNs.
    pub fn region_id(&self) -> &str {
        &self.region_id
    }

    /// The account id in ARNs.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// Key lookups answered from the cache (hits) and from the store (misses) since start.
    pub fn cache_stats(&self) -> (u64, u64) {
        self.cache.stats()
    }

    /// Whether other nodes share the store (a cache lifetime was configured).
    pub fn shares_store(&self) -> bool {
        self.shared_store
    }

    /// The service with `quotas` in force instead of [`Quotas::default`].
    #[must_use]
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// The service serving `ProtectionLevel=HSM` keys through `provider` (a PKCS#11 token);
    /// without it such keys are refused with [`KmsError::UnsupportedProtectionLevel`].
    #[must_use]
    pub fn with_hsm_provider(mut self, provider: Arc<dyn KeyProvider>) -> Self {
        self.hsm = Some(provider);
        self
    }

    /// The service with HSM key versions limited to `limit` encryptions each instead of the
    /// format's [`crate::ciphertext::DIRECT_MESSAGE_LIMIT`] (tests reach the limit this way).
    #[must_use]
    pub fn with_hsm_message_limit(mut self, limit: u64) -> Self {
        self.budgets = budget::Budgets::with_limit(limit);
        self
    }

    /// Whether `ProtectionLevel=HSM` keys are served (a token is configured).
    pub fn offers_hsm(&self) -> bool {
        self.hsm.is_some()
    }

    /// The provider that keeps keys of `level`.
    fn provider_for(
        &self,
        level: crate::ProtectionLevel,
    ) -> Result<Arc<dyn KeyProvider>, KmsError> {
        match level {
            crate::ProtectionLevel::Software => Ok(self.provider.clone()),
            crate::ProtectionLevel::Hsm => {
                self.hsm.clone().ok_or(KmsError::UnsupportedProtectionLevel)
            }
        }
    }

    /// The clock the service uses.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The ARN of a key.
    pub fn key_arn(&self, key_id: &str) -> String {
        format!(
            "acs:kms:{}:{}:key/{}",
            self.region_id, self.account_id, key_id
        )
    }

    /// Reads a `KeyId` parameter: a key id, `alias/...`, or a key or alias ARN of this
    /// service's region and account. An ARN of another account names no key here. A text
    /// longer than [`MAX_KEY_REF_BYTES`] names no key either and is refused before anything
    /// looks for it or matches a policy against it.
    pub fn parse_key_ref(&self, text: &str) -> Result<KeyRef, KmsError> {
        if text.is_empty() {
            return Err(KmsError::invalid(Field::KeyId, crate::InvalidReason::Empty));
        }
        if text.len() > MAX_KEY_REF_BYTES {
            let reason = crate::InvalidReason::TooLong {
                max: MAX_KEY_REF_BYTES,
            };
            return Err(KmsError::invalid(Field::KeyId, reason));
        }
        let Some(rest) = text.strip_prefix("acs:kms:") else {
            return Ok(match text.starts_with("alias/") {
                true => KeyRef::Alias(text.to_owned()),
                false => KeyRef::Id(text.to_owned()),
            });
        };
        let mut parts = rest.splitn(3, ':');
        let (region, account, resource) = (parts.next(), parts.next(), parts.next());
        if region != Some(self.region_id.as_str()) || account != Some(self.account_id.as_str()) {
            return Err(KmsError::KeyNotFound);
        }
        match resource {
            Some(r) if r.starts_with("alias/") => Ok(KeyRef::Alias(r.to_owned())),
            Some(r) => r
                .strip_prefix("key/")
                .map(|id| KeyRef::Id(id.to_owned()))
                .ok_or(KmsError::KeyNotFound),
            None => Err(KmsError::KeyNotFound),
        }
    }
}
