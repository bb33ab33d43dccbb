//! TLS for the listener: the operator's certificate, or a private CA generated at first start.
//!
//! Without `--tls-cert`, `<data-dir>/tls/` gets `ca.pem` (what clients trust), `server.pem`
//! and `server.key` (mode 0600) for `localhost`, `127.0.0.1` and `::1`. The CA's private key
//! is never written: nobody can mint more certificates under it, and a fresh CA is made if the
//! files are removed. The rustls configuration uses the aws-lc-rs provider only.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

use crate::config::{ServerConfig, Transport};
use crate::files;

/// Validity of generated certificates.
const VALIDITY_DAYS: i64 = 3650;

/// The rustls configuration for `config`, generating files when needed; `None` for HTTP.
pub fn server_config(config: &ServerConfig) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    let (cert, key) = match &config.transport {
        Transport::InsecureHttp => return Ok(None),
        Transport::Tls { cert, key } => (cert.clone(), key.clone()),
        Transport::GeneratedTls => {
            let dir = config.data_dir.join("tls");
            ensure_generated(&dir)?;
            (dir.join("server.pem"), dir.join("server.key"))
        }
    };
    load(&cert, &key).map(|c| Some(Arc::new(c)))
}

fn load(cert: &Path, key: &Path) -> anyhow::Result<rustls::ServerConfig> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .with_context(|| format!("tls_cert: cannot read certificates from {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("tls_key: cannot read a private key from {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("tls: protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("tls_cert/tls_key: the key does not match the certificate")
}

fn ensure_generated(dir: &Path) -> anyhow::Result<()> {
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    if ca.exists() && cert.exists() && key.exists() {
        return Ok(());
    }
    files::ensure_dir(dir)?;
    let generated = generate().context("tls: cannot generate certificates")?;
    files::write_private(&key, generated.server_key.as_bytes(), false)?;
    files::write_private(&cert, generated.server_cert.as_bytes(), false)?;
    files::write_private(&ca, generated.ca_cert.as_bytes(), false)?;
    tracing::info!(ca = %ca.display(), "generated a private CA and server certificate; clients trust ca.pem");
    Ok(())
}

struct Generated {
    ca_cert: String,
    server_cert: String,
    server_key: String,
}

fn generate() -> Result<Generated, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "openkms local CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut ca);
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate()?;
    let mut server = CertificateParams::new(Vec::<String>::new())?;
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into()?),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    validity(&mut server);
    let server_cert = server.signed_by(&server_key, &issuer)?;
    Ok(Generated {
        ca_cert: ca_cert.pem(),
        server_cert: server_cert.pem(),
        server_key: server_key.serialize_pem(),
    })
}

fn validity(params: &mut CertificateParams) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(VALIDITY_DAYS);
}
