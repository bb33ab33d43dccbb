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

/// What a refused value is, in the domain's terms. A codec names it on its wire (the Alibaba
/// codec's one error mapping gives each its parameter name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The key reference of a request.
    KeyId,
    /// An alias name.
    AliasName,
    /// A key's or policy's description.
    Description,
    /// Why a key is protected against deletion.
    DeletionProtectionDescription,
    /// An encryption context.
    EncryptionContext,
    /// The data to encrypt.
    Plaintext,
    /// A data key's length.
    NumberOfBytes,
    /// A deletion's pending window, in days.
    PendingWindowInDays,
    /// An automatic rotation interval.
    RotationInterval,
    /// A key policy document.
    KeyPolicy,
    /// A RAM policy document.
    PolicyDocument,
    /// A RAM policy's name.
    PolicyName,
    /// The tags of a request, as a set.
    Tags,
    /// One tag's key.
    TagKey,
    /// One tag's value.
    TagValue,
    /// A RAM user's name.
    UserName,
    /// A RAM user's display name.
    DisplayName,
    /// A RAM user's mobile phone.
    MobilePhone,
    /// A RAM user's email address.
    Email,
    /// A RAM user's comments.
    Comments,
    /// Imported key material.
    KeyMaterial,
    /// `KeyMaterialExpireUnix`.
    KeyMaterialExpireUnix,
    /// A key spec.
    KeySpec,
    /// A key usage (or its combination with the spec).
    KeyUsage,
    /// An asymmetric algorithm (unknown, or not fitting the key).
    Algorithm,
    /// ReEncrypt's `SourceEncryptionAlgorithm` (not fitting the source key pair).
    SourceEncryptionAlgorithm,
    /// A digest to sign or verify (not 32 bytes).
    Digest,
    /// A generated password's length (or its character set, when nothing is left of it).
    PasswordLength,
    /// A RAM user's console password.
    Password,
    /// The current console password a user gives to change it.
    OldPassword,
}

/// A kind of RAM identity record, for the identity errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A user.
    User,
    /// A custom (or named system) policy.
    Policy,
    /// A policy's attachment to a user.
    UserPolicy,
    /// An AccessKey of a user.
    AccessKey,
    /// A user's login profile (console password).
    LoginProfile,
}

/// What still refers to a record that was asked to be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteConflict {
    /// The user still owns AccessKeys.
    UserAccessKey,
    /// The user still holds policies.
    UserPolicy,
    /// The policy is still attached to users.
    PolicyUser,
}

/// An error from a key service operation.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// A parameter value was refused.
    #[error("invalid {field:?}: {reason:?}")]
    InvalidParameter {
        /// What was refused.
        field: Field,
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
    /// The operation does not apply to this key (a key pair asked to rotate, a symmetric
    /// key asked for a public key, a signing key asked to encrypt): Alibaba's
    /// `Rejected.UnsupportedOperation`.
    #[error("unsupported operation for this key")]
    RejectedUnsupported,
    /// A key-import action on a key whose origin is not EXTERNAL.
    #[error("key origin is not valid for this action")]
    UnsupportedOrigin,
    /// An `ImportToken` that does not open, was issued for another key, or is damaged.
    #[error("import token is invalid")]
    InvalidImportToken,
    /// An `ImportToken` past its 24 hours.
    #[error("import token is expired")]
    ExpiredImportToken,
    /// Imported key material that does not unwrap or has the wrong length. No detail.
    #[error("key material is invalid")]
    InvalidKeyMaterial,
    /// The protection level is not offered by this server.
    #[error("unsupported protection level")]
    UnsupportedProtectionLevel,
    /// A dedicated KMS instance was named; this server has none.
    #[error("dedicated KMS instance not found")]
    DkmsInstanceNotFound,
    /// The ciphertext cannot be decrypted with this context. Deliberately without detail.
    #[error("the ciphertext cannot be decrypted")]
    InvalidCiphertext,
    /// Too many requests of one costly kind (GetParametersForImport's key generation) are
    /// waiting already; the request did nothing and may be retried later.
    #[error("too many requests of this kind are waiting")]
    Throttled,
    /// Too many concurrent changes to one key; the request may be retried.
    #[error("the key is being changed by too many requests at once")]
    Contended,
    /// The caller's policies (and the key's policy) do not allow the request.
    #[error("not allowed by policy")]
    Forbidden,
    /// The named identity record does not exist.
    #[error("{0:?} not found")]
    EntityNotFound(Entity),
    /// An identity record with that name exists already.
    #[error("{0:?} already exists")]
    EntityExists(Entity),
    /// A record cannot be deleted while others refer to it.
    #[error("delete conflict: {0:?}")]
    DeleteConflict(DeleteConflict),
    /// The user has as many AccessKeys as allowed.
    #[error("too many AccessKeys for one user")]
    AccessKeyLimit,
    /// The request would take a resource count past its quota (keys, aliases of a key,
    /// versions of a key, RAM users); nothing was created.
    #[error("resource quota exceeded")]
    LimitExceeded,
    /// A policy document is not valid; says which part.
    #[error("malformed policy document: {0}")]
    MalformedPolicy(&'static str),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The key custody (a PKCS#11 token) failed or is out of reach; the detail is logged
    /// where it happened, never carried here.
    #[error("the key custody failed")]
    Custody,
    /// The key version has served as many encryptions as its ciphertext format allows
    /// (HSM-protected keys, `docs/ciphertext-format.md`); a new version must be made.
    #[error("the key version has reached its encryption limit")]
    KeyVersionExhausted,
    /// Stored data failed its integrity check (wrong root key or corruption).
    #[error("stored data failed its integrity check")]
    Corrupt,
    /// A Secrets Manager rule refused the request (`service::secrets`).
    #[error("secrets: {0:?}")]
    Secret(SecretError),
}

/// Why the Secrets Manager refused a request. Carries no secret value, ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretError {
    /// A parameter value was refused; names which.
    Invalid(SecretField),
    /// No secret of that name (or no version of it matching the selection).
    NotFound,
    /// A secret of that name exists (perhaps scheduled for deletion).
    Exists,
    /// A version of that id exists with another value.
    VersionExists,
    /// The secret is scheduled for deletion.
    InDeleteWindow,
    /// RestoreSecret of a secret that is not scheduled for deletion.
    NotDeleted,
    /// Every kept version carries a label: no version can make room for another.
    LimitExceeded,
    /// `RemoveFromVersion` does not carry the stage, or a built-in stage would be removed.
    StageMismatch,
    /// Rotation of a secret (managed types only, which this server does not serve).
    RotationUnsupported,
}

/// A parameter of the Secrets Manager's requests, as a refusal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretField {
    /// The secret's name.
    SecretName,
    /// A version id.
    VersionId,
    /// The value.
    SecretData,
    /// Its data type.
    SecretDataType,
    /// A stage label.
    VersionStage,
    /// The list of stage labels.
    VersionStages,
    /// The secret type.
    SecretType,
    /// The description.
    Description,
    /// The recovery window.
    RecoveryWindowInDays,
    /// The secret policy.
    Policy,
    /// The ListSecrets filters.
    Filters,
    /// A page number or size.
    Paging,
}

impl KmsError {
    /// Shorthand for [`KmsError::InvalidParameter`].
    pub fn invalid(field: Field, reason: InvalidReason) -> Self {
        Self::InvalidParameter { field, reason }
    }
}
