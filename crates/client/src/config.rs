//! Client configuration: the endpoint, trust, credentials and region.
//!
//! Owns [`ClientConfig`], the [`AccessKeySecret`] newtype (wiped on drop, redacted in
//! `Debug`, readable only through `expose_secret`), parsing the endpoint, and the
//! [`ConfigError`]s that say what to fix. Does not own reading configuration files or
//! environment variables: that is the CLI's.

use std::fmt;
use std::path::PathBuf;

use http::uri::{Authority, Scheme, Uri};
use thiserror::Error;
use zeroize::Zeroizing;

/// An AccessKeySecret. Wiped from memory on drop; `Debug` prints `<redacted>`; not
/// `Clone`, not `PartialEq`.
pub struct AccessKeySecret(Zeroizing<String>);

impl AccessKeySecret {
    /// Wraps a secret, taking ownership of the string (no copy is made).
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// The secret itself. Keep the borrow short and never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for AccessKeySecret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl fmt::Debug for AccessKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessKeySecret(<redacted>)")
    }
}

/// What a [`Client`](crate::Client) needs to reach and authenticate to a server.
#[derive(Debug)]
pub struct ClientConfig {
    /// `https://host:port` or `http://host:port`; a bare `host:port` means https. No path
    /// other than `/`, no query.
    pub endpoint: String,
    /// PEM file of the CA(s) to trust for https. When given, ONLY these are trusted; when
    /// absent, the operating system's trust store is used.
    pub ca_file: Option<PathBuf>,
    /// Sent as `AccessKeyId`; names the secret the server checks the signature with.
    pub access_key_id: String,
    /// Signs every request; never sent.
    pub access_key_secret: AccessKeySecret,
    /// Sent as `RegionId` like the official SDKs do; omitted when empty.
    pub region_id: String,
}

/// Why an endpoint string is not usable.
#[derive(Debug, Error)]
pub enum EndpointProblem {
    /// It does not parse as a URL.
    #[error("it is not a URL ({0})")]
    NotAUrl(#[from] http::uri::InvalidUri),
    /// The scheme is neither `http` nor `https`.
    #[error("only http:// and https:// are supported")]
    UnsupportedScheme,
    /// There is no host.
    #[error("it has no host")]
    MissingHost,
    /// It has a path other than `/` or a query; the API lives at `/`.
    #[error("it has a path or query; the API is always served at /")]
    HasPath,
}

/// A configuration the client cannot work with. Each message says what to change.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The endpoint is malformed.
    #[error(
        "the endpoint {endpoint:?} is not usable: {problem}; give scheme, host and port, e.g. https://127.0.0.1:8443"
    )]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        #[source]
        problem: EndpointProblem,
    },
    /// A CA file was given for a plain-HTTP endpoint, which would silently not use it.
    #[error(
        "a CA file was given but the endpoint {endpoint:?} is plain http; use https:// or drop the CA file"
    )]
    CaFileWithPlainHttp {
        /// The endpoint as given.
        endpoint: String,
    },
    /// The CA file could not be read or is not PEM.
    #[error(
        "cannot read CA certificates from {path:?}: {source}; give a PEM file with one or more CERTIFICATE blocks"
    )]
    ReadCaFile {
        /// The file.
        path: PathBuf,
        /// The I/O or PEM error.
        source: rustls::pki_types::pem::Error,
    },
    /// The CA file holds no certificate.
    #[error(
        "{path:?} contains no PEM CERTIFICATE block; give the CA certificate that signed the server's certificate"
    )]
    NoCertificateInCaFile {
        /// The file.
        path: PathBuf,
    },
    /// A certificate in the CA file is not a usable trust anchor.
    #[error("a certificate in {path:?} cannot be used as a CA: {source}")]
    InvalidCaCertificate {
        /// The file.
        path: PathBuf,
        /// Why rustls refused it.
        source: rustls::Error,
    },
    /// No CA file was given and the system trust store yielded no certificate.
    #[error(
        "no CA file was given and the system trust store has no usable certificate; pass the server's CA file"
    )]
    NoSystemRoots,
    /// rustls refused the TLS configuration.
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// The AccessKeyId is empty.
    #[error("the AccessKeyId is empty; give the AccessKeyId the server knows")]
    EmptyAccessKeyId,
}

/// A parsed endpoint: scheme and authority, nothing else.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) scheme: Scheme,
    pub(crate) authority: Authority,
}

impl Endpoint {
    /// Parses `https://host:port`, `http://host:port` or a bare `host:port` (https).
    pub(crate) fn parse(endpoint: &str) -> Result<Self, ConfigError> {
        Self::parse_inner(endpoint).map_err(|problem| ConfigError::InvalidEndpoint {
            endpoint: endpoint.to_owned(),
            problem,
        })
    }

    fn parse_inner(endpoint: &str) -> Result<Self, EndpointProblem> {
        let uri: Uri = if endpoint.contains("://") {
            endpoint.parse()?
        } else {
            format!("https://{endpoint}").parse()?
        };
        let scheme = uri
            .scheme()
            .cloned()
            .ok_or(EndpointProblem::UnsupportedScheme)?;
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
            return Err(EndpointProblem::UnsupportedScheme);
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or(EndpointProblem::MissingHost)?;
        if authority.host().is_empty() {
            return Err(EndpointProblem::MissingHost);
        }
        if uri.path() != "/" || uri.query().is_some() {
            return Err(EndpointProblem::HasPath);
        }
        Ok(Self { scheme, authority })
    }

    pub(crate) fn is_https(&self) -> bool {
        self.scheme == Scheme::HTTPS
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted() {
        let config = ClientConfig {
            endpoint: "https://127.0.0.1:8443".into(),
            ca_file: None,
            access_key_id: "ak".into(),
            access_key_secret: AccessKeySecret::new("hunter2-secret"),
            region_id: "cn-hangzhou".into(),
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert_eq!(config.access_key_secret.expose_secret(), "hunter2-secret");
    }

    #[test]
    fn endpoints() {
        let ok = |s: &str| Endpoint::parse(s).map(|e| e.to_string()).unwrap();
        assert_eq!(ok("https://127.0.0.1:8443"), "https://127.0.0.1:8443");
        assert_eq!(ok("http://localhost:8080/"), "http://localhost:8080");
        assert_eq!(ok("kms.local.test:8443"), "https://kms.local.test:8443");
        for bad in [
            "ftp://x",
            "https://x/kms",
            "https://x/?a=b",
            "https://",
            "http://[::1",
        ] {
            assert!(
                matches!(
                    Endpoint::parse(bad),
                    Err(ConfigError::InvalidEndpoint { .. })
                ),
                "{bad}"
            );
        }
    }
}
