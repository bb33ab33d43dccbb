//! Request authentication: who signed this request, and is it fresh?
//!
//! Every request must be signed. [`Authenticator::authenticate`] checks the signature
//! ([`v1`] for RPC HMAC-SHA1), that the timestamp is inside the clock window ([`window`]),
//! and that the nonce was not used before inside it ([`nonce`]). The nonce is recorded only
//! after the signature verifies, so nobody can burn another client's nonces. Deciding what
//! the caller may do is not done here.

pub mod nonce;
pub mod v1;
pub mod window;

use http::HeaderMap;
use openkms_core::KeyService;

use crate::rpc::{Params, RpcError};
use nonce::NonceCache;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The AccessKeyId that signed the request.
    pub access_key_id: String,
    /// The user owning that AccessKey.
    pub user: String,
}

/// What authentication needs to see of a request.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// The HTTP method, uppercase.
    pub method: &'a str,
    /// The merged parameters.
    pub params: &'a Params,
    /// The request headers.
    pub headers: &'a HeaderMap,
}

/// Checks signatures, the clock window and nonce replay.
#[derive(Debug)]
pub struct Authenticator {
    nonces: NonceCache,
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
            window_secs,
        }
    }

    /// Authenticates a request or says why not.
    pub async fn authenticate(
        &self,
        service: &KeyService,
        request: RequestView<'_>,
    ) -> Result<Caller, RpcError> {
        if request.params.get("Signature").is_none() {
            return Err(
                match request.headers.contains_key(http::header::AUTHORIZATION) {
                    true => RpcError::IncompleteSignature,
                    false => RpcError::MissingParameter("Signature"),
                },
            );
        }
        let now = service.clock().now();
        let signed = v1::verify(service, request, now, self.window_secs).await?;
        let expires = signed.timestamp + self.window_secs;
        if !self
            .nonces
            .insert(&signed.caller.access_key_id, signed.nonce, expires, now)
        {
            return Err(RpcError::NonceUsed);
        }
        Ok(signed.caller)
    }
}
