//! What the in-process server tests share: a key service over SQLite in a temporary
//! directory with a known root AccessKey, `openkms_api::serve` started on `127.0.0.1:0` over
//! plain HTTP or HTTPS (a private CA made per server) with a shutdown trigger, a signing
//! client pointed at it, and a bare HTTP/1.1 connection for requests the client cannot shape
//! (a body sent in pieces).
//!
//! Not here: what a reply must contain; the test file says that.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use openkms_api::{App, ServerOptions};
use openkms_client::{AccessKeySecret, Client, ClientConfig};
use openkms_core::service::{CreateKeyInput, RootAccessKey};
use openkms_core::{
    KeyService, KeySpec, OsRandom, RootKey, SecretBytes, ServiceConfig, SystemClock,
};
use openkms_store_sqlite::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The root AccessKey every test server knows.
pub const AK_ID: &str = "LTAI5tServerTest000001";
/// Its secret.
pub const AK_SECRET: &str = "ServerTestSecretServerTest0123";
/// The region every test server serves (its `HostId` is `openkms.<region>`).
pub const REGION: &str = "cn-hangzhou";
/// Largest request body the test servers accept.
const MAX_BODY: usize = 64 * 1024;

/// How the test server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP.
    Http,
    /// HTTPS with a certificate for 127.0.0.1 from a CA made for this server.
    Https,
}

/// One `serve` running in this process, with its own store; stop it with [`Self::shutdown`].
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A client signing with the root AccessKey.
    pub client: Client,
    /// The key service behind it, to set up keys directly.
    pub service: Arc<KeyService>,
    stop: Option<oneshot::Sender<()>>,
    served: Option<JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// A server with the default transport settings.
    pub async fn start(transport: Transport) -> Self {
        Self::start_with(transport, ServerOptions::default()).await
    }

    /// A server with `options` (its `tls` is set from `transport`).
    pub async fn start_with(transport: Transport, options: ServerOptions) -> Self {
        Self::start_custom(transport, options, |app| app).await
    }

    /// A server with `options`, its handler shaped by `customize`.
    pub async fn start_custom(
        transport: Transport,
        mut options: ServerOptions,
        customize: impl FnOnce(App) -> App,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let service = Arc::new(service(&dir).await);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("a local address");
        let (scheme, ca_file) = match transport {
            Transport::Http => ("http", None),
            Transport::Https => {
                let (tls, ca_pem) = tls_config();
                options.tls = Some(tls);
                let ca_file = dir.path().join("ca.pem");
                std::fs::write(&ca_file, ca_pem).expect("write ca.pem");
                ("https", Some(ca_file))
            }
        };
        let app = App::new(service.clone(), MAX_BODY).over_tls(transport == Transport::Https);
        let app = customize(app);
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let served = tokio::spawn(openkms_api::serve(
            listener,
            Arc::new(app),
            options,
            shutdown,
        ));
        let client = Client::new(ClientConfig {
            endpoint: format!("{scheme}://{addr}"),
            ca_file,
            access_key_id: AK_ID.into(),
            access_key_secret: AccessKeySecret::new(AK_SECRET),
            region_id: REGION.into(),
        })
        .expect("a client for the test server")
        .with_timeout(Duration::from_secs(20));
        Self {
            addr,
            client,
            service,
            stop: Some(stop),
            served: Some(served),
            _dir: dir,
        }
    }

    /// A new enabled AES-256 key; its id.
    pub async fn key(&self) -> String {
        let input = CreateKeyInput::of_spec(KeySpec::AliyunAes256);
        self.service.create_key(input).await.expect("a key").key_id
    }

    /// Completes the shutdown future `serve` was given.
    pub fn trigger_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Triggers shutdown (if not yet) and waits for `serve` to return, at most `within`.
    pub async fn shutdown(&mut self, within: Duration) {
        self.trigger_shutdown();
        let served = self.served.take().expect("serve is awaited once");
        let result = tokio::time::timeout(within, served)
            .await
            .unwrap_or_else(|_| panic!("serve did not return within {within:?} of shutdown"));
        result
            .expect("serve did not panic")
            .expect("serve returned Ok");
    }

    /// Whether `serve` has not returned yet.
    pub fn is_serving(&self) -> bool {
        self.served.as_ref().is_some_and(|s| !s.is_finished())
    }

    /// Whether a new TCP connection to the server is refused now.
    pub async fn refuses_connections(&self) -> bool {
        matches!(
            TcpStream::connect(self.addr).await,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.trigger_shutdown();
    }
}

async fn service(dir: &tempfile::TempDir) -> KeyService {
    let store = SqliteStore::open(&dir.path().join("openkms.db")).expect("sqlite opens");
    let config = ServiceConfig {
        region_id: REGION.into(),
        account_id: None,
        cache_ttl_ms: None,
    };
    let rng = Arc::new(OsRandom::new());
    let root = RootKey::generate(rng.as_ref());
    let svc = KeyService::open(Arc::new(store), root, Arc::new(SystemClock), rng, config)
        .await
        .expect("the service opens");
    let ak = RootAccessKey {
        access_key_id: AK_ID.into(),
        secret: SecretBytes::new(AK_SECRET.into()),
    };
    svc.ensure_root_access_key(&ak)
        .await
        .expect("the root AccessKey is stored");
    svc
}

/// A server configuration for 127.0.0.1 and localhost, and the PEM of the CA that signed it.
fn tls_config() -> (Arc<rustls::ServerConfig>, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "openkms server test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("a CA certificate");
    let issuer = Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate().expect("a server key");
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let params = CertificateParams::new(names).expect("server parameters");
    let cert = params
        .signed_by(&server_key, &issuer)
        .expect("a server certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .expect("a server configuration");
    (Arc::new(config), ca_cert.pem())
}

/// A reply read off a bare connection.
#[derive(Debug)]
pub struct BareReply {
    /// The status code.
    pub status: u16,
    /// Header lines as received, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body (by `content-length`).
    pub body: Vec<u8>,
}

impl BareReply {
    /// The value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A plain-HTTP/1.1 connection written and read by hand.
pub struct BareConnection {
    stream: TcpStream,
    /// Bytes read past the last message.
    buffer: Vec<u8>,
}

impl BareConnection {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Self {
            stream,
            buffer: Vec::new(),
        }
    }

    /// Writes `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
        self.stream.flush().await.expect("flush");
    }

    /// Reads one message head (status line and headers) within `within`.
    pub async fn read_head(&mut self, within: Duration) -> (u16, Vec<(String, String)>) {
        let end = tokio::time::timeout(within, self.fill_until(|b| find(b, b"\r\n\r\n")))
            .await
            .expect("a reply head in time");
        let head: Vec<u8> = self.buffer.drain(..end + 4).collect();
        let text = String::from_utf8(head).expect("an ASCII head");
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status line, got {status_line:?}"));
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        (status, headers)
    }

    /// Reads one whole reply (head and `content-length` body) within `within`.
    pub async fn read_reply(&mut self, within: Duration) -> BareReply {
        let (status, headers) = self.read_head(within).await;
        let reply = BareReply {
            status,
            headers,
            body: Vec::new(),
        };
        let length: usize = reply
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .expect("a content-length");
        tokio::time::timeout(
            within,
            self.fill_until(|b| (b.len() >= length).then_some(length)),
        )
        .await
        .expect("the reply body in time");
        let body = self.buffer.drain(..length).collect();
        BareReply { body, ..reply }
    }

    /// Whether the server closes the connection (end of stream) within `within`, with
    /// nothing more sent.
    pub async fn closed_by_server(&mut self, within: Duration) -> bool {
        let mut chunk = [0u8; 256];
        match tokio::time::timeout(within, self.stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => self.buffer.is_empty(),
            Ok(Ok(_)) | Err(_) => false,
        }
    }

    async fn fill_until(&mut self, done: impl Fn(&[u8]) -> Option<usize>) -> usize {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(n) = done(&self.buffer) {
                return n;
            }
            let read = self.stream.read(&mut chunk).await.expect("read");
            assert!(read > 0, "the server closed the connection mid-reply");
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
