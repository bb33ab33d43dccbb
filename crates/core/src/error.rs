//! The core's one error type.
//!
//! [`KmsError`] says what went wrong in domain terms, with typed variants only. Mapping it to
//! an Alibaba `Code`, HTTP status and message is done once, in the api crate. A failed
//! decryption is the single variant [`KmsError::InvalidCiphertext`], which carries no detail:
//! a wrong context, a flipped bit, a truncated blob and an unknown version all look the same.

use crate::model::KeyState;
use crate::store::StoreError;

/// Why a parameter value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    /// Longer than the limit (bytes or characters, as the parameter defines).
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Empty where a value is required.
    Empty,
    /// Not one of the accepted values.
    NotAccepted,
    /// Not of the documented form.
    BadFormat,
    /// An alias under the reserved `alias/acs` prefix.
    ReservedPrefix,
    /// Not a JSON object whose values are strings.
    NotAJsonObjectOfStrings,
    /// A number outside its range.
    OutOfRange,
}

/// An error from a key service operation.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// A parameter value was refused.
    #[error("invalid parameter {name}: {reason:?}")]
    InvalidParameter {
        /// The parameter's API name.
        name: &'static str,
        /// Why.
        reason: InvalidReason,
    },
    /// No key with that id or ARN.
    #[error("key not found")]
    KeyNotFound,
    /// No alias with that name.
    #[error("alias not found")]
    AliasNotFound,
    /// An alias with that name exists already.
    #[error("alias already exists")]
    AliasAlreadyExists,
    /// The key's state does not allow a cryptographic operation.
    #[error("key state is {0:?}")]
    KeyStateRejected(KeyState),
    /// The key's state does not allow this change.
    #[error("key state does not allow this change")]
    StateModifiedFailed,
    /// The key is protected against deletion.
    #[error("the key is protected against deletion")]
    DeletionProtected,
    /// No version with that id belongs to the key.
    #[error("key version not found")]
    KeyVersionNotFound,
    /// The operation does not apply to this kind of key or request.
    #[error("unsupported operation")]
    UnsupportedOperation,
    /// The protection level is not offered by this server.
    #[error("unsupported protection level")]
    UnsupportedProtectionLevel,
    /// A dedicated KMS instance was named; this server has none.
    #[error("dedicated KMS instance not found")]
    DkmsInstanceNotFound,
    /// The ciphertext cannot be decrypted with this context. Deliberately without detail.
    #[error("the ciphertext cannot be decrypted")]
    InvalidCiphertext,
    /// Too many concurrent changes to one key; the request may be retried.
    #[error("the key is being changed by too many requests at once")]
    Contended,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Stored data failed its integrity check (wrong root key or corruption).
    #[error("stored data failed its integrity check")]
    Corrupt,
}

impl KmsError {
    /// Shorthand for [`KmsError::InvalidParameter`].
    pub fn invalid(name: &'static str, reason: InvalidReason) -> Self {
        Self::InvalidParameter { name, reason }
    }
}
