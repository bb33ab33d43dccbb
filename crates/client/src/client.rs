//! [`Client`]: one configured endpoint and identity, a keep-alive connection pool, and the
//! calls.
//!
//! Owns turning a [`PreparedRequest`] into an HTTP exchange (with a timeout and a cap on
//! the reply size) and the `call` family. Does not own request building (`request.rs`),
//! reply interpretation (`response.rs`) or TLS trust (`tls.rs`). Never logs parameters,
//! replies or secrets.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use openkms_sign::V1SigningKey;
use serde_json::Value;

use crate::config::{ClientConfig, ConfigError, Endpoint};
use crate::error::{ClientError, ProtocolError, TransportError};
use crate::request::{self, Identity, PreparedRequest, RawRequest};
use crate::response::RawResponse;
use crate::tls::{self, Connector};

/// How long a call may take, connection included, unless changed with
/// [`Client::with_timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest reply body accepted (the largest API replies are a few tens of KiB).
const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// A signed-request client for one endpoint. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Client {
    endpoint: Endpoint,
    endpoint_text: Arc<str>,
    access_key_id: Arc<str>,
    region_id: Arc<str>,
    key: Arc<V1SigningKey>,
    http: HyperClient<Connector, Full<Bytes>>,
    timeout: Duration,
}

impl Client {
    /// Validates `config`, loads the trusted CAs and builds the connection pool.
    /// The secret is turned into a signing key and the secret itself is wiped.
    /// Needs no runtime; calls need a tokio runtime.
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        if config.access_key_id.is_empty() {
            return Err(ConfigError::EmptyAccessKeyId);
        }
        let endpoint = Endpoint::parse(&config.endpoint)?;
        let connector = tls::connector(&endpoint, config.ca_file.as_deref())?;
        let http = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        let key = V1SigningKey::new(config.access_key_secret.expose_secret().as_bytes());
        Ok(Self {
            endpoint_text: endpoint.to_string().into(),
            endpoint,
            access_key_id: config.access_key_id.into(),
            region_id: config.region_id.into(),
            key: Arc::new(key),
            http,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// A client for the requests no AccessKey signs (the operator's init, unseal and status
    /// of a sealed server): only [`Client::send_json`] makes sense with it.
    pub fn unsigned(
        endpoint: &str,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self, ConfigError> {
        Self::new(ClientConfig {
            endpoint: endpoint.to_owned(),
            ca_file: ca_file.map(std::path::Path::to_path_buf),
            access_key_id: "-".to_owned(),
            access_key_secret: crate::config::AccessKeySecret::new(""),
            region_id: String::new(),
        })
    }

    /// Sends `method` `path` (e.g. `/openkms/operator/status`) with `body` as JSON, unsigned;
    /// the reply as received, whatever its status. The body is wiped once sent.
    pub async fn send_json(
        &self,
        method: crate::request::HttpMethod,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<RawResponse, ClientError> {
        let uri = http::Uri::builder()
            .scheme(self.endpoint.scheme.clone())
            .authority(self.endpoint.authority.clone())
            .path_and_query(path)
            .build()?;
        let mut builder = http::Request::builder().method(method.as_str()).uri(uri);
        if body.is_some() {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        let body = body.map(|b| Bytes::from_owner(Wiped(b)));
        let request = builder.body(Full::new(body.unwrap_or_default()))?;
        self.timed(request).await
    }

    /// Sends a signed request to `path` instead of `/`, its query string kept; the reply as
    /// received.
    pub async fn send_to(
        &self,
        path: &str,
        req: &PreparedRequest,
    ) -> Result<RawResponse, ClientError> {
        let query = req.path_and_query.strip_prefix('/').unwrap_or_default();
        let moved = PreparedRequest {
            path_and_query: format!("{path}{query}"),
            ..req.clone()
        };
        self.send(&moved).await
    }

    /// Sets how long one call may take, connecting included.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The endpoint, normalised (`https://host:port`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint_text
    }

    /// Calls `action` with business parameters, POSTed in the query like the SDKs.
    /// Returns the reply's JSON object.
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<Value, ClientError> {
        let mut req = RawRequest::new(action);
        req.params = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.call_with(req).await
    }

    /// Calls with every override of [`RawRequest`]. Returns the reply's JSON object.
    pub async fn call_with(&self, req: RawRequest) -> Result<Value, ClientError> {
        let prepared = self.prepare(req)?;
        self.send(&prepared).await?.into_result()
    }

    /// Builds and signs a request without sending it.
    pub fn prepare(&self, req: RawRequest) -> Result<PreparedRequest, ClientError> {
        let identity = Identity {
            access_key_id: &self.access_key_id,
            region_id: &self.region_id,
            key: &self.key,
        };
        request::prepare(&identity, req)
    }

    /// Sends a prepared request (as often as wanted) and returns the reply as received,
    /// whatever its status.
    pub async fn send(&self, req: &PreparedRequest) -> Result<RawResponse, ClientError> {
        let request = self.http_request(req)?;
        self.timed(request).await
    }

    async fn timed(&self, request: http::Request<Full<Bytes>>) -> Result<RawResponse, ClientError> {
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::timeout(&self.endpoint_text, self.timeout).into()),
        }
    }

    fn http_request(
        &self,
        req: &PreparedRequest,
    ) -> Result<http::Request<Full<Bytes>>, ClientError> {
        let uri = http::Uri::builder()
            .scheme(self.endpoint.scheme.clone())
            .authority(self.endpoint.authority.clone())
            .path_and_query(req.path_and_query.as_str())
            .build()?;
        let mut builder = http::Request::builder()
            .method(req.method.as_str())
            .uri(uri);
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = match &req.form_body {
            Some(form) => {
                builder = builder.header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                );
                Bytes::from(form.clone())
            }
            None => Bytes::new(),
        };
        Ok(builder.body(Full::new(body))?)
    }

    async fn exchange(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<RawResponse, ClientError> {
        let transport = |e: Box<dyn std::error::Error + Send + Sync>| {
            TransportError::from_http(&self.endpoint_text, e)
        };
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| transport(Box::new(e)))?;
        let (parts, body) = response.into_parts();
        let collected = Limited::new(body, MAX_REPLY_BYTES).collect().await;
        let body = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<LengthLimitError>() => {
                return Err(ProtocolError::TooLarge {
                    limit: MAX_REPLY_BYTES,
                }
                .into());
            }
            Err(e) => return Err(transport(e).into()),
        };
        Ok(RawResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint_text)
            .field("access_key_id", &self.access_key_id)
            .field("region_id", &self.region_id)
            .field("key", &self.key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A request body overwritten with zeros once sent (it may hold an unseal share or an init
/// token).
struct Wiped(Vec<u8>);

impl AsRef<[u8]> for Wiped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}
