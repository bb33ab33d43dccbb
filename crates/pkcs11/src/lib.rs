//! openkms-pkcs11: key custody in a PKCS#11 token, on the `cryptoki` crate.
//!
//! [`Pkcs11Root`] is the root key as a non-extractable AES-256 key in the token
//! (`--seal pkcs11`), implementing the core's [`openkms_core::RootSeal`]; [`Pkcs11Provider`]
//! is the key provider of `ProtectionLevel=HSM` keys (AES-256 keys and RSA, P-256 and
//! secp256k1 key pairs), whose material is made in the token and never leaves it. [`Token`] holds the module, the logged-in slot and a session pool.
//!
//! This crate is where the FFI lives: the core does no I/O and knows nothing of PKCS#11. It
//! does not read PIN files or configuration (the binary does), and lays out no ciphertext
//! blob (the core does; keys here only seal and open).
#![deny(missing_docs)]

mod pair;
mod pair_token;
mod provider;
mod root;
#[doc(hidden)]
pub mod testing;
mod token;

pub use pair::STORED_PAIR_V1;
pub use pair_token::{PairDecrypt, PairKind, PairSign, PairUse, PrivateFacts, PublicParts};
pub use provider::{Pkcs11Provider, STORED_REF_V1, object_label};
pub use root::{Pkcs11Root, WRAP_TOKEN_V1};
pub use token::{Extractable, KEY_LEN, Token, TokenError};

use openkms_core::KmsError;

/// Logs why a token operation failed (function and return value, never a secret) and gives
/// the undetailed [`KmsError::Custody`].
fn token_failed(what: &'static str, e: &TokenError) -> KmsError {
    tracing::error!(operation = what, error = %e, "PKCS#11 token operation failed");
    KmsError::Custody
}
