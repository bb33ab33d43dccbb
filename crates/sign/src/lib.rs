//! Request signatures of the Alibaba Cloud KMS OpenAPI (2016-01-20), shared by the openkms
//! server (to verify) and the openkms client (to sign).
//!
//! This crate owns the algorithms only: RFC 3986 percent-encoding ([`percent_encode`]),
//! RPC signature V1 (HMAC-SHA1, [`v1_string_to_sign`], [`V1SigningKey`]) and signature V3
//! (ACS3-HMAC-SHA256, [`v3_canonical_request`], [`V3SigningKey`], [`parse_authorization`]).
//! It does no I/O and knows nothing of HTTP servers, clocks, nonces or credentials stores:
//! callers hand it decoded parameters and headers and get strings back. Freshness
//! (`Timestamp`, `x-acs-date`), nonce replay and the payload-hash check belong to the server.
//!
//! Every `verify` compares in constant time.
#![deny(missing_docs)]

mod authorization;
mod encode;
mod param;
#[cfg(test)]
mod test_vectors;
mod v1;
mod v3;

pub use authorization::{
    AuthField, Authorization, AuthorizationError, V3Algorithm, parse_authorization,
};
pub use encode::{percent_encode, percent_encode_into};
pub use param::ParamPair;
pub use v1::{
    V1Order, V1SigningKey, v1_orders_may_differ, v1_signature, v1_string_to_sign,
    v1_string_to_sign_in, v1_verify,
};
pub use v3::{
    EMPTY_PAYLOAD_SHA256, HeaderLookup, V3_ALGORITHM, V3SigningKey, sha256_hex, v3_authorization,
    v3_canonical_query, v3_canonical_request, v3_signature, v3_string_to_sign, v3_verify,
};
