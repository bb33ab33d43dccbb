//! A typed client for the openkms API (Alibaba Cloud KMS, OpenAPI 2016-01-20), shared by
//! the `openkms` CLI and the integration tests.
//!
//! It owns: the configuration ([`ClientConfig`], with a self-wiping [`AccessKeySecret`]),
//! building and signing RPC V1 requests the way the old Python SDK does ([`RawRequest`],
//! [`PreparedRequest`]), HTTP(S) with keep-alive over hyper and rustls (aws-lc-rs only),
//! and turning replies into JSON or a typed [`ClientError`]. It does not own the signature
//! algorithm (`openkms-sign`), any knowledge of individual actions' parameters, output
//! formatting, or retries.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use openkms_client::{AccessKeySecret, Client, ClientConfig};
//! let client = Client::new(ClientConfig {
//!     endpoint: "https://127.0.0.1:8443".into(),
//!     ca_file: Some("ca.pem".into()),
//!     access_key_id: "testakid".into(),
//!     access_key_secret: AccessKeySecret::new("testsecret"),
//!     region_id: "cn-hangzhou".into(),
//! })?;
//! let reply = client.call("CreateKey", &[("Description", "demo")]).await?;
//! println!("{}", reply["KeyMetadata"]["KeyId"]);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod client;
mod config;
mod error;
mod request;
mod response;
mod tls;

pub use client::{Client, DEFAULT_TIMEOUT};
pub use config::{AccessKeySecret, ClientConfig, ConfigError, EndpointProblem};
pub use error::{ClientError, ProtocolError, TransportError, TransportErrorKind};
pub use request::{
    API_VERSION, HttpMethod, ParamPlacement, PreparedRequest, RawRequest, SignatureMode,
    random_nonce, timestamp,
};
pub use response::RawResponse;
