//! openkms-api: the HTTP(S) front-end that speaks Alibaba Cloud KMS OpenAPI 2016-01-20
//! (and the RAM 2015-05-01 subset that manages its users and policies).
//!
//! It owns the transport ([`server`]: TLS, limits, graceful shutdown), request
//! authentication ([`auth`]: signatures, clock window, nonce replay), the RPC envelope
//! ([`rpc`]: parameters, replies, the one error mapping), the Alibaba codec ([`codec`]: one
//! file per action, decoding parameters into the typed operations of `openkms-ops` and
//! encoding their outputs), the audit log ([`audit`]: one chained line per request) and the
//! throttles ([`throttle`]: failed authentications per source, requests per AccessKey). The
//! key service sits in a [`slot`], empty while the server is sealed; [`operator`] unseals it
//! with Shamir shares.
//! Authorizing and running an operation is the `openkms-ops` engine's job. It never names a
//! storage backend: the binary builds a [`openkms_core::KeyService`] over whichever store it
//! chose and hands it in.
#![deny(missing_docs)]

pub mod audit;
pub mod auth;
pub mod codec;
mod handler;
pub mod operator;
pub mod rpc;
pub mod server;
pub mod slot;
pub mod throttle;

pub use handler::{App, DEFAULT_BODY_DEADLINE, MAX_HEAD_BYTES, Unparsed};
pub use server::{
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_SOURCE, Handler, ServerOptions, serve,
};
