//! TLS trust and the HTTP(S) connector.
//!
//! Owns: which roots are trusted (the configured CA file alone, else the system store),
//! the rustls configuration with the aws-lc-rs provider only, and the hyper-rustls
//! connector over a TCP connector with `TCP_NODELAY` and a connect timeout. Does not own
//! sending requests or pooling (the hyper client in `client.rs`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::{ConfigError, Endpoint};

/// How long to wait for a TCP connection before giving up on it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The connector type the hyper client uses.
pub(crate) type Connector = HttpsConnector<HttpConnector>;

/// Builds the connector for `endpoint`, trusting only `ca_file` when it is given.
pub(crate) fn connector(
    endpoint: &Endpoint,
    ca_file: Option<&Path>,
) -> Result<Connector, ConfigError> {
    let roots = match (endpoint.is_https(), ca_file) {
        (false, Some(_)) => {
            return Err(ConfigError::CaFileWithPlainHttp {
                endpoint: endpoint.to_string(),
            });
        }
        // Plain HTTP never handshakes, so it needs no roots (and no system store).
        (false, None) => RootCertStore::empty(),
        (true, Some(path)) => roots_from_file(path)?,
        (true, None) => system_roots()?,
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
    Ok(HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp))
}

fn roots_from_file(path: &Path) -> Result<RootCertStore, ConfigError> {
    let read_error = |source| ConfigError::ReadCaFile {
        path: path.to_owned(),
        source,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(read_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_error)?;
    if certs.is_empty() {
        return Err(ConfigError::NoCertificateInCaFile {
            path: path.to_owned(),
        });
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|source| ConfigError::InvalidCaCertificate {
                path: path.to_owned(),
                source,
            })?;
    }
    Ok(roots)
}

/// The operating system's trust store (honours `SSL_CERT_FILE` / `SSL_CERT_DIR`).
/// Certificates it cannot parse are skipped; an empty result is an error.
fn system_roots() -> Result<RootCertStore, ConfigError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        return Err(ConfigError::NoSystemRoots);
    }
    Ok(roots)
}
