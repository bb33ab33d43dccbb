//! The checks of [`openkms_core::ReplayStore`]: SignatureNonce records: one winner per nonce, expiry, purge, durability.

mod concurrency;
mod nonces;

pub use concurrency::*;
pub use nonces::*;
