//! Connections for the bench: one TCP (and TLS) connection per worker, HTTP/1.1 keep-alive.
//!
//! [`Dialer`] knows the endpoint and the TLS trust (the CA file alone; aws-lc-rs provider);
//! [`Conn`] is one open connection that carries one request at a time. Failures become a
//! short, stable label (`transport: connection closed`) so they can be counted by kind.
//! Nothing here knows what a request means or signs anything.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How long one request (or one connection attempt) may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens connections to one endpoint.
pub struct Dialer {
    /// `host:port` to connect to.
    address: String,
    /// The `Host` header value.
    host: String,
    /// TLS connector and the name to verify; `None` for plain HTTP.
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

/// One open keep-alive connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
}

/// A reply as received.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The whole body.
    pub body: Bytes,
}

impl Dialer {
    /// A dialer for `endpoint` (`https://host:port`, or `http://…` when `http_ok`).
    pub fn new(endpoint: &str, ca_file: Option<&Path>, http_ok: bool) -> anyhow::Result<Self> {
        let uri: Uri = endpoint
            .parse()
            .with_context(|| format!("--endpoint: {endpoint:?} is not a URL"))?;
        let authority = uri
            .authority()
            .with_context(|| format!("--endpoint: {endpoint:?} names no host"))?;
        let host = authority.host().trim_matches(|c| c == '[' || c == ']');
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if http_ok => false,
            Some("http") => bail!(
                "--endpoint: {endpoint} is plain HTTP; pass --insecure-http-ok to benchmark it anyway"
            ),
            _ => bail!("--endpoint: {endpoint:?} must start with https://"),
        };
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tls = match https {
            true => Some(tls_connector(host, ca_file)?),
            false => None,
        };
        Ok(Self {
            address: format!("{}:{port}", authority.host()),
            host: authority.as_str().to_owned(),
            tls,
        })
    }

    /// The `Host` header every request carries.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        match self.tls {
            Some(_) => "https",
            None => "http",
        }
    }

    /// Opens one connection, TLS handshake included.
    pub async fn connect(&self) -> Result<Conn, &'static str> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.connect_inner()).await {
            Ok(result) => result,
            Err(_) => Err("connect: timed out"),
        }
    }

    async fn connect_inner(&self) -> Result<Conn, &'static str> {
        let tcp = TcpStream::connect(&self.address)
            .await
            .map_err(|_| "connect: refused or unreachable")?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => handshake(tcp).await,
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|_| "connect: TLS handshake failed")?;
                handshake(tls).await
            }
        }
    }
}

async fn handshake<S>(stream: S) -> Result<Conn, &'static str>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| "connect: HTTP handshake failed")?;
    tokio::spawn(async move {
        // Ends when the connection closes; the sender reports that on its next request.
        let _ = connection.await;
    });
    Ok(Conn { sender })
}

impl Conn {
    /// Sends `request` and reads the whole reply.
    pub async fn exchange(&mut self, request: Request<Full<Bytes>>) -> Result<Reply, String> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange_inner(request)).await {
            Ok(result) => result,
            Err(_) => Err("transport: timed out".to_owned()),
        }
    }

    async fn exchange_inner(&mut self, request: Request<Full<Bytes>>) -> Result<Reply, String> {
        self.sender.ready().await.map_err(|e| label(&e))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| label(&e))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| label(&e))?
            .to_bytes();
        Ok(Reply { status, body })
    }
}

/// A stable label for a hyper error, for counting errors by kind.
fn label(e: &hyper::Error) -> String {
    let kind = if e.is_closed() || e.is_canceled() {
        "connection closed"
    } else if e.is_incomplete_message() {
        "incomplete reply"
    } else if e.is_parse() {
        "unparsable reply"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "I/O error"
    };
    format!("transport: {kind}")
}

fn tls_connector(
    host: &str,
    ca_file: Option<&Path>,
) -> anyhow::Result<(TlsConnector, ServerName<'static>)> {
    let Some(ca_file) = ca_file else {
        bail!(
            "--ca-file: needed for https (the server's CA is <data-dir>/tls/ca.pem unless it was given a certificate)"
        );
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("--ca-file: cannot read {}", ca_file.display()))?;
    for cert in certs {
        roots.add(cert).with_context(|| {
            format!(
                "--ca-file: a certificate in {} is invalid",
                ca_file.display()
            )
        })?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("tls: protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned())
        .with_context(|| format!("--endpoint: {host:?} is not a valid TLS server name"))?;
    Ok((TlsConnector::from(Arc::new(config)), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_needs_consent() {
        let refused = Dialer::new("http://127.0.0.1:1", None, false).err();
        assert!(refused.is_some_and(|e| e.to_string().contains("--insecure-http-ok")));
        let d = Dialer::new("http://127.0.0.1:1", None, true).unwrap();
        assert_eq!((d.scheme(), d.host()), ("http", "127.0.0.1:1"));
    }

    #[test]
    fn https_needs_a_ca_file() {
        let e = Dialer::new("https://127.0.0.1:1", None, false).err();
        assert!(e.is_some_and(|e| e.to_string().contains("--ca-file")));
    }
}
