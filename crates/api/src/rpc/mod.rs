//! The RPC envelope: request parameters in, replies and errors out.
//!
//! [`params`] merges the query string and a form body; [`error`] is the one place where
//! every error becomes an Alibaba `Code`, HTTP status and message; [`reply`] renders
//! successes and errors as JSON (or XML when asked) with a `RequestId`, which [`request_id`]
//! makes; [`dates`] formats timestamps as the API shows them.

pub mod dates;
pub mod error;
pub mod params;
pub mod reply;
pub mod request_id;
mod secret_error;

pub use error::RpcError;
pub use params::Params;
pub use reply::Format;
