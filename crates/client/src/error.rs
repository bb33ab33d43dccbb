//! The client's errors: one enum, typed variants.
//!
//! Owns [`ClientError`] and its parts: [`TransportError`] (the server could not be
//! reached or the exchange broke, with a message a person can act on) and
//! [`ProtocolError`] (the server answered something that is not the API's JSON). Does not
//! own deciding what an API error code means: [`ClientError::Api`] carries it verbatim.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use thiserror::Error;

/// Any failure of a call.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The server answered with an API error (`Code`, `Message`, `RequestId`).
    #[error("{code}: {message} (HTTP {status}, RequestId {request_id})")]
    Api {
        /// The HTTP status, e.g. 404.
        status: u16,
        /// The `Code`, e.g. `Forbidden.KeyNotFound`.
        code: String,
        /// The `Message`; empty when the server sent none.
        message: String,
        /// The `RequestId`; empty when the server sent none.
        request_id: String,
        /// The whole JSON body, for fields such as `HostId` or `Recommend` (boxed to keep
        /// `Result<_, ClientError>` small).
        body: Box<serde_json::Value>,
    },
    /// The server could not be reached, TLS failed, or the exchange broke or timed out.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered, but not with the API's JSON.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The request could not be expressed in HTTP (e.g. an invalid extra header name).
    #[error("cannot build the HTTP request: {0}")]
    InvalidRequest(#[from] http::Error),
    /// The operating system's random generator failed to give a `SignatureNonce`.
    #[error("the system random generator failed; cannot make a SignatureNonce")]
    Random,
}

impl ClientError {
    /// The API error `Code`, when this is an API error.
    pub fn api_code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Which part of the exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// No TCP connection (refused, unreachable, DNS, connect timeout).
    Connect,
    /// The TLS handshake failed (untrusted or mismatched certificate, protocol).
    Tls,
    /// No complete reply within the client's timeout.
    Timeout,
    /// The connection broke while sending the request or reading the reply.
    Exchange,
}

/// The server could not be reached or the exchange failed.
#[derive(Debug)]
pub struct TransportError {
    endpoint: String,
    kind: TransportErrorKind,
    cause: Cause,
}

#[derive(Debug)]
enum Cause {
    Error(Box<dyn StdError + Send + Sync>),
    Elapsed(Duration),
}

impl TransportError {
    /// Classifies an error from the HTTP stack.
    pub(crate) fn from_http(endpoint: &str, err: Box<dyn StdError + Send + Sync>) -> Self {
        let kind = classify(err.as_ref());
        Self {
            endpoint: endpoint.to_owned(),
            kind,
            cause: Cause::Error(err),
        }
    }

    /// No reply within `after`.
    pub(crate) fn timeout(endpoint: &str, after: Duration) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            kind: TransportErrorKind::Timeout,
            cause: Cause::Elapsed(after),
        }
    }

    /// Which part of the exchange failed.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = &self.endpoint;
        let err = match &self.cause {
            Cause::Elapsed(after) => {
                let secs = after.as_secs_f64();
                return write!(
                    f,
                    "no reply from {endpoint} within {secs} s; is the server up and not overloaded?"
                );
            }
            Cause::Error(err) => err.as_ref(),
        };
        let detail = describe(err);
        match self.kind {
            TransportErrorKind::Connect => write!(
                f,
                "cannot connect to {endpoint}: {detail}; is the server running there?"
            ),
            TransportErrorKind::Tls => write!(
                f,
                "TLS with {endpoint} failed: {detail}; check that the CA file is the CA that signed the server certificate and that the certificate names this host"
            ),
            TransportErrorKind::Timeout | TransportErrorKind::Exchange => {
                write!(f, "the exchange with {endpoint} failed: {detail}")
            }
        }
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.cause {
            Cause::Error(err) => Some(err.as_ref()),
            Cause::Elapsed(_) => None,
        }
    }
}

/// The error and its causes, looking inside `io::Error` (whose `source` skips the error
/// it wraps). Bounded, in case of a cycle.
fn causes<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out: Vec<&'a (dyn StdError + 'static)> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next.filter(|_| out.len() < 16) {
        out.push(e);
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
        next = match inner {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    out
}

fn classify(err: &(dyn StdError + 'static)) -> TransportErrorKind {
    let chain = causes(err);
    if chain.iter().any(|e| e.is::<rustls::Error>()) {
        return TransportErrorKind::Tls;
    }
    let connect = chain
        .iter()
        .filter_map(|e| e.downcast_ref::<hyper_util::client::legacy::Error>())
        .any(hyper_util::client::legacy::Error::is_connect);
    if connect {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Exchange
    }
}

/// The messages of the cause chain, joined by `: `, without hyper's generic wrapper text
/// and without repeats.
fn describe(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in causes(err) {
        let wrapper = e.is::<hyper_util::client::legacy::Error>() && e.source().is_some();
        let text = e.to_string();
        if !wrapper && parts.last() != Some(&text) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// The server answered, but not with the API's JSON.
#[derive(Debug, Error)]
pub enum ProtocolError {
    /// The body is not JSON (e.g. an HTML page from a proxy).
    #[error("HTTP {status}: the reply is not JSON (Content-Type {content_type:?}): {source}")]
    NotJson {
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
        /// The JSON parser's complaint.
        source: serde_json::Error,
    },
    /// The body is JSON but not an object.
    #[error("HTTP {status}: the reply is JSON but not an object")]
    NotAnObject {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: serde_json::Value,
    },
    /// An error status whose JSON body has no `Code`.
    #[error("HTTP {status}: the error reply has no Code")]
    MissingErrorCode {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: serde_json::Value,
    },
    /// The reply body is larger than the client accepts.
    #[error("the reply body is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}
