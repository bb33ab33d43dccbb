//! Request authentication: who signed this request, and is it fresh?
//!
//! Every request must be signed. [`Authenticator::authenticate`] checks the signature
//! ([`v1`] for RPC HMAC-SHA1, [`v3`] for ACS3-HMAC-SHA256), that the timestamp is inside the clock window ([`window`]),
//! and that the nonce was not used before inside it ([`nonce`], kept durably by [`journal`] on a
//! single node or in the shared store when nodes share a database, so that a replay is refused
//! after a restart too). The nonce is recorded only
//! after the signature verifies, so nobody can burn another client's nonces. Deciding what
//! the caller may do is not done here.

pub mod journal;
pub mod nonce;
pub mod v1;
pub mod v3;
pub mod window;

use http::HeaderMap;
use std::sync::Arc;

use openkms_core::service::Credential;
use openkms_core::{KeyService, KmsError};

use crate::rpc::{Params, RpcError};
use journal::{NonceJournal, Restored};
use nonce::{NonceCache, Refusal, SharedNonces};

pub use openkms_ops::Caller;

/// Longest AccessKeyId looked up; AccessKey ids here are at most 64 characters.
pub const MAX_ACCESS_KEY_ID_BYTES: usize = 128;

/// The caller a credential signs as.
pub(crate) fn caller_of(credential: &Credential) -> Caller {
    Caller {
        access_key_id: credential.access_key_id.clone(),
        user: credential.user.clone(),
    }
}

/// A request whose signature verified, before its nonce is checked.
#[derive(Debug)]
pub struct Signed<'a> {
    /// Who signed it.
    pub caller: Caller,
    /// Its timestamp, seconds since the epoch.
    pub timestamp: i64,
    /// Its nonce.
    pub nonce: &'a str,
}

/// The credential of an AccessKeyId that may sign requests.
async fn active_credential(
    service: &KeyService,
    access_key_id: &str,
) -> Result<Arc<Credential>, RpcError> {
    if access_key_id.len() > MAX_ACCESS_KEY_ID_BYTES {
        // Names no AccessKey: not worth a lookup (a V3 credential is not a parameter, so the
        // parameter bounds have not seen it).
        return Err(RpcError::AccessKeyNotFound);
    }
    let credential = service
        .credential(access_key_id)
        .await?
        .ok_or(RpcError::AccessKeyNotFound)?;
    match credential.active {
        true => Ok(credential),
        false => Err(RpcError::AccessKeyDisabled),
    }
}

/// What authentication needs to see of a request. No `Debug`: it holds the body.
#[derive(Clone, Copy)]
pub struct RequestView<'a> {
    /// The HTTP method, uppercase.
    pub method: &'a str,
    /// The merged parameters.
    pub params: &'a Params,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The raw body (V3 signs its hash).
    pub body: &'a [u8],
}

/// Checks signatures, the clock window and nonce replay.
#[derive(Debug)]
pub struct Authenticator {
    nonces: NonceCache,
    /// The nonces of the nodes sharing the store, when several do.
    shared: Option<SharedNonces>,
    /// Where a single node keeps its nonces durably.
    journal: Option<NonceJournal>,
    window_secs: i64,
}

impl Default for Authenticator {
    fn default() -> Self {
        Self::new(window::DEFAULT_WINDOW_SECS)
    }
}

impl Authenticator {
    /// An authenticator accepting timestamps within `window_secs` of the server's clock.
    pub fn new(window_secs: i64) -> Self {
        Self {
            nonces: NonceCache::default(),
            shared: None,
            journal: None,
            window_secs,
        }
    }

    /// Also refuses nonces other nodes sharing the store used, recording each in `shared`.
    #[must_use]
    pub fn with_shared_nonces(mut self, shared: SharedNonces) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Also keeps every nonce in `journal`, durably before the request goes on, and refuses
    /// the nonces it `restored` from before the restart.
    #[must_use]
    pub fn with_journal(mut self, journal: NonceJournal, restored: Restored) -> Self {
        let nonces = NonceCache::with_key(journal.key(), nonce::SHARD_CAPACITY);
        let now = journal::unix_now();
        for (fingerprint, expires) in restored {
            // A full set refuses old timestamps itself (see `nonce`): nothing to do here.
            let _ = nonces.insert_fingerprint(fingerprint, i64::from(expires), now);
        }
        self.nonces = nonces;
        self.journal = Some(journal);
        self
    }

    /// Authenticates a request or says why not.
    pub async fn authenticate(
        &self,
        service: &KeyService,
        request: RequestView<'_>,
    ) -> Result<Caller, RpcError> {
        if request.params.get("SecurityToken").is_some()
            || request.headers.contains_key("x-acs-security-token")
        {
            // openkms issues no STS tokens, so none can be valid.
            return Err(RpcError::InvalidSecurityToken);
        }
        let now = service.clock().now();
        let authorization = request.headers.get(http::header::AUTHORIZATION);
        let signed = match (request.params.get("Signature"), authorization) {
            (Some(_), _) => v1::verify(service, request, now, self.window_secs).await?,
            (None, Some(auth)) => v3::verify(service, request, auth, now, self.window_secs).await?,
            (None, None) => return Err(RpcError::MissingParameter("Signature")),
        };
        let expires = signed.timestamp + self.window_secs;
        let access_key_id = &signed.caller.access_key_id;
        let fingerprint = self.nonces.fingerprint(access_key_id, signed.nonce);
        match self.nonces.insert_fingerprint(fingerprint, expires, now) {
            Ok(()) => {}
            Err(Refusal::Replayed) => return Err(RpcError::NonceUsed),
            Err(Refusal::Full) => return Err(RpcError::NonceMemoryFull),
        }
        if let Some(journal) = &self.journal {
            journal.record(fingerprint, expires)?;
        }
        // With nodes sharing a database the replay window is shared through it as well.
        if let Some(shared) = &self.shared {
            let now = service.clock().now();
            let fresh = shared.insert(access_key_id, signed.nonce, expires, now);
            if !fresh.await.map_err(KmsError::from)? {
                return Err(RpcError::NonceUsed);
            }
        }
        Ok(signed.caller)
    }
}
