//! openkms-api: the HTTP(S) front-end that speaks Alibaba Cloud KMS OpenAPI 2016-01-20
//! (and the RAM 2015-05-01 subset that manages its users and policies).
//!
//! It owns the transport ([`server`]: TLS, limits, graceful shutdown), request
//! authentication ([`auth`]: signatures, clock window, nonce replay), authorization
//! ([`authz`]: what each action touches, decided by users' and keys' policies), the RPC envelope
//! ([`rpc`]: parameters, replies, the one error mapping), one module per API action
//! ([`action`]) and the audit log ([`audit`]: one chained line per request). It never names
//! a storage backend: the binary builds a [`openkms_core::KeyService`] over whichever store
//! it chose and hands it in.
#![deny(missing_docs)]

pub mod action;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod codec;
mod handler;
pub mod rpc;
pub mod server;

pub use handler::App;
pub use server::{ServerOptions, serve};
