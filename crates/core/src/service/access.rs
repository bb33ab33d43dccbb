//! AccessKeys: the root AccessKey at first start, and secret lookup for signature checks.
//!
//! Secrets are stored only wrapped under the root key (bound to the AccessKeyId) and held in
//! memory, once unwrapped, in [`SecretBytes`]. Checking a request's signature is the api
//! crate's job; this module only answers "which secret does this AccessKeyId have".

use std::any::Any;
use std::sync::{Arc, OnceLock};

use super::KeyService;
use crate::error::KmsError;
use crate::model::AccessKeyRecord;
use crate::random::random_string;
use crate::secret::SecretBytes;
use crate::store::StoreError;

/// Meta name recording which AccessKey is the root one.
pub(crate) const META_ROOT_AK: &str = "root_access_key_id";
/// Wrap label of AccessKey secrets.
pub(crate) const WRAP_LABEL_AK: &str = "access-key";
/// Alphabet of generated ids and secrets.
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// An AccessKey ready for signature checks.
pub struct Credential {
    /// The AccessKeyId.
    pub access_key_id: String,
    /// The owning user.
    pub user: String,
    /// The secret.
    pub secret: SecretBytes,
    /// Whether the key may sign requests.
    pub active: bool,
    /// A key a front end derives from the secret (a signature scheme's prepared HMAC key),
    /// kept with the cached credential so that checking a request does not derive it again.
    /// The core neither knows nor reads it.
    derived: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl Credential {
    /// The front end's key derived from the secret by `derive`, made on first use. One
    /// front end's type per credential: a second type is derived afresh on every call.
    pub fn derived<T: Any + Send + Sync>(&self, derive: impl Fn(&[u8]) -> T) -> Derived<'_, T> {
        let boxed = self
            .derived
            .get_or_init(|| Box::new(derive(self.secret.expose_secret())));
        match boxed.downcast_ref::<T>() {
            Some(kept) => Derived::Kept(kept),
            None => Derived::Fresh(derive(self.secret.expose_secret())),
        }
    }
}

/// A key derived from a credential's secret: the one kept with it, or a fresh one.
pub enum Derived<'a, T> {
    /// The kept key.
    Kept(&'a T),
    /// Derived for this call (another front end's type is kept).
    Fresh(T),
}

impl<T> std::ops::Deref for Derived<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Self::Kept(kept) => kept,
            Self::Fresh(fresh) => fresh,
        }
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("user", &self.user)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// A root AccessKey pair, as offered at first start.
#[derive(Debug)]
pub struct RootAccessKey {
    /// The AccessKeyId.
    pub access_key_id: String,
    /// The secret.
    pub secret: SecretBytes,
}

impl RootAccessKey {
    /// A fresh pair in Alibaba's shape: `LTAI` + 20 characters, and a 30-character secret.
    pub fn generate(service: &KeyService) -> Self {
        let rng = service.rng.as_ref();
        let access_key_id = format!("LTAI{}", random_string(rng, ALNUM, 20));
        let secret = SecretBytes::new(random_string(rng, ALNUM, 30).into_bytes());
        Self {
            access_key_id,
            secret,
        }
    }
}

impl KeyService {
    /// The root AccessKeyId, if the data directory has one yet.
    pub async fn root_access_key_id(&self) -> Result<Option<String>, KmsError> {
        let id = self.store.get_meta(META_ROOT_AK).await?;
        id.map(|b| String::from_utf8(b).map_err(|_| KmsError::Corrupt))
            .transpose()
    }

    /// Makes `candidate` the root AccessKey if there is none yet; returns the root id in force.
    pub async fn ensure_root_access_key(
        &self,
        candidate: &RootAccessKey,
    ) -> Result<String, KmsError> {
        if let Some(id) = self.root_access_key_id().await? {
            return Ok(id);
        }
        let id = &candidate.access_key_id;
        let record = AccessKeyRecord {
            access_key_id: id.clone(),
            user: super::ROOT_USER.to_owned(),
            wrapped_secret: self.root.wrap(
                self.rng.as_ref(),
                WRAP_LABEL_AK,
                id,
                candidate.secret.expose_secret(),
            )?,
            active: true,
            created_at: self.clock.now(),
        };
        match self.store.create_access_key(&record).await {
            Ok(()) | Err(StoreError::AlreadyExists) => {}
            Err(e) => return Err(e.into()),
        }
        self.store
            .put_meta_if_absent(META_ROOT_AK, id.as_bytes())
            .await?;
        Ok(self
            .root_access_key_id()
            .await?
            .unwrap_or_else(|| id.clone()))
    }

    /// The credential for an AccessKeyId, unwrapped; `None` if there is no such key.
    pub async fn credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<Arc<Credential>>, KmsError> {
        if let Some(c) = self.cache.credential(access_key_id) {
            return Ok(Some(c));
        }
        let generation = self.cache.credential_generation();
        let Some(rec) = self.store.get_access_key(access_key_id).await? else {
            return Ok(None);
        };
        let secret = self
            .root
            .unwrap(WRAP_LABEL_AK, &rec.access_key_id, &rec.wrapped_secret)?;
        let cred = Arc::new(Credential {
            access_key_id: rec.access_key_id,
            user: rec.user,
            secret,
            active: rec.active,
            derived: OnceLock::new(),
        });
        self.cache.put_loaded_credential(cred.clone(), generation);
        Ok(Some(cred))
    }
}
