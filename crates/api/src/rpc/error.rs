//! Every error a request can end in, and the one mapping to the wire.
//!
//! [`RpcError`] covers the gateway layer (signatures, timestamps, nonces, parameters,
//! actions) and wraps the core's [`KmsError`]. [`RpcError::wire`] is the single exhaustive
//! `match` that decides the HTTP status, the Alibaba `Code` and the message (§4.3); nothing
//! else in the code base chooses a status or a code. A 5xx says nothing about its cause.

use openkms_core::StoreError;
use openkms_core::error::{DeleteConflict, Entity, Field, InvalidReason, KmsError};
use openkms_core::model::KeyState;
use openkms_core::unseal::ShareRefused;

use crate::operator::OperatorError;

/// What a failed request reports.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// A required parameter is absent or empty.
    #[error("missing parameter {0}")]
    MissingParameter(&'static str),
    /// A parameter's value is malformed on the wire (not a number, not JSON, ...).
    #[error("invalid parameter {0}")]
    InvalidParameter(&'static str),
    /// A parameter's value is refused by a rule the codec checks, which the message says.
    #[error("invalid parameter {0}: {1:?}")]
    InvalidValue(&'static str, InvalidReason),
    /// A parameter is given more than once (its name, cut to a bounded length).
    #[error("repeated parameter")]
    RepeatedParameter(String),
    /// The request carries more parameters than any request needs (`codec::bounds`).
    #[error("too many parameters")]
    TooManyParameters {
        /// The limit.
        max: usize,
    },
    /// The Action names no operation this server serves.
    #[error("unknown action")]
    UnknownAction,
    /// The Version is not 2016-01-20.
    #[error("unsupported version")]
    InvalidVersion,
    /// The request is not signed in a form this server checks.
    #[error("incomplete signature")]
    IncompleteSignature,
    /// The signature does not match; carries the server's string-to-sign (§2.4).
    #[error("signature mismatch")]
    SignatureMismatch(String),
    /// The Timestamp cannot be read.
    #[error("bad timestamp format")]
    TimestampFormat,
    /// The Timestamp is outside the ±15 minute window.
    #[error("timestamp expired")]
    TimestampExpired,
    /// The SignatureNonce was seen before inside the window.
    #[error("nonce used")]
    NonceUsed,
    /// The nonce set is full of live nonces and no longer vouches for a timestamp this old
    /// (see `auth::nonce`); retryable with a fresh Timestamp and SignatureNonce.
    #[error("nonce set full")]
    NonceMemoryFull,
    /// No AccessKey has that id.
    #[error("access key not found")]
    AccessKeyNotFound,
    /// The AccessKey is inactive.
    #[error("access key disabled")]
    AccessKeyDisabled,
    /// A security token was sent; this server issues none.
    #[error("invalid security token")]
    InvalidSecurityToken,
    /// The request head (request line and headers) is larger than the server accepts.
    #[error("head too large")]
    HeadTooLarge,
    /// The body is larger than the server accepts.
    #[error("body too large")]
    BodyTooLarge,
    /// The path or method names nothing this server serves.
    #[error("no such resource")]
    NotFound,
    /// The request body could not be read (the connection failed mid-body).
    #[error("request body unreadable")]
    BodyUnreadable,
    /// The request body did not arrive within its deadline.
    #[error("request body timed out")]
    BodyTimeout,
    /// A `ResourceId.N` names no key.
    #[error("resource not found")]
    ResourceNotFound,
    /// `DryRun=true`: everything checked, nothing done (§6.3: "KMS always returns an error").
    #[error("dry run")]
    DryRunOperation,
    /// A tag key breaks the tag rules (repeat-list tagging actions).
    #[error("invalid tag key")]
    InvalidTagKey,
    /// A tag value breaks the tag rules (repeat-list tagging actions).
    #[error("invalid tag value")]
    InvalidTagValue,
    /// A tag key appears twice in one request.
    #[error("duplicate tag key")]
    DuplicateTagKey,
    /// The request's audit line could not be written (and the log is not fail-open).
    #[error("audit log unavailable")]
    AuditUnavailable,
    /// A RAM action the caller's policies do not allow (RAM spells it `NoPermission`).
    #[error("not allowed by policy")]
    RamForbidden,
    /// The source address used up its budget of failed authentications: the verdict is
    /// withheld (see `throttle`).
    #[error("failed authentications throttled")]
    SourceThrottled,
    /// The AccessKey used up its request quota (see `throttle`).
    #[error("access key throttled")]
    AccessKeyThrottled,
    /// The server is sealed: it holds no root key until unsealed (see `operator`).
    #[error("sealed")]
    Sealed,
    /// An operator request (init, unseal) was refused.
    #[error(transparent)]
    Operator(#[from] crate::operator::OperatorError),
    /// The nonce journal could not make the request's nonce durable.
    #[error(transparent)]
    NonceJournal(#[from] crate::auth::journal::JournalError),
    /// An error from the key service.
    #[error(transparent)]
    Kms(#[from] KmsError),
}

/// An error as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// HTTP status.
    pub status: u16,
    /// The Alibaba error code.
    pub code: &'static str,
    /// The human message.
    pub message: String,
}

impl RpcError {
    /// [`RpcError::RepeatedParameter`] for `name`, cut to 128 bytes for the message.
    pub fn repeated(name: &str) -> Self {
        let mut end = name.len().min(128);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        Self::RepeatedParameter(name[..end].to_owned())
    }

    /// Shorthand for [`RpcError::InvalidParameter`].
    pub fn invalid(name: &'static str) -> Self {
        Self::InvalidParameter(name)
    }

    /// Shorthand for [`RpcError::InvalidValue`].
    pub fn invalid_because(name: &'static str, reason: InvalidReason) -> Self {
        Self::InvalidValue(name, reason)
    }

    /// The status, code and message of this error. The one mapping.
    pub fn wire(&self) -> WireError {
        let (status, code, message) = match self {
            Self::MissingParameter(n) => (400, "MissingParameter", missing(n)),
            Self::InvalidParameter(n) => (400, "InvalidParameter", invalid(n, None)),
            Self::InvalidValue(n, reason) => (400, "InvalidParameter", invalid(n, Some(*reason))),
            Self::RepeatedParameter(n) => (400, "InvalidParameter", repeated(n)),
            Self::TooManyParameters { max } => (400, "InvalidParameter", too_many(*max)),
            Self::UnknownAction => (404, "InvalidAction.NotFound", s(MSG_ACTION)),
            Self::InvalidVersion => (400, "InvalidVersion", s(MSG_VERSION)),
            Self::IncompleteSignature => (400, "IncompleteSignature", s(MSG_INCOMPLETE)),
            Self::SignatureMismatch(sts) => (400, "SignatureDoesNotMatch", mismatch(sts)),
            Self::TimestampFormat => (400, "InvalidTimeStamp.Format", s(MSG_TS_FORMAT)),
            Self::TimestampExpired => (400, "InvalidTimeStamp.Expired", s(MSG_TS_EXPIRED)),
            Self::NonceUsed => (400, "SignatureNonceUsed", s(MSG_NONCE)),
            // Retryable, like the gateway's own overload answer.
            Self::NonceMemoryFull => (503, "ServiceUnavailableTemporary", s(MSG_NONCE_FULL)),
            Self::AccessKeyNotFound => (404, "InvalidAccessKeyId.NotFound", s(MSG_AK_NOT_FOUND)),
            Self::AccessKeyDisabled => (403, "Forbidden.AccessKeyDisabled", s(MSG_AK_DISABLED)),
            Self::InvalidSecurityToken => {
                (400, "InvalidSecurityToken.Malformed", s(MSG_SECURITY_TOKEN))
            }
            Self::BodyTooLarge => (413, "InvalidParameter", s(MSG_BODY_TOO_LARGE)),
            Self::HeadTooLarge => (431, "InvalidParameter", s(MSG_HEAD_TOO_LARGE)),
            Self::NotFound => (404, "InvalidAction.NotFound", s(MSG_ACTION)),
            Self::BodyUnreadable => (400, "InvalidParameter", s(MSG_BODY_UNREADABLE)),
            // Not in Alibaba's tables (unverified): the HTTP meaning, so clients may retry.
            Self::BodyTimeout => (408, "RequestTimeout", s(MSG_BODY_TIMEOUT)),
            Self::ResourceNotFound => (404, "InvalidResourceId.NotFound", s(MSG_RESOURCE)),
            // The code is the documented one (§6.3); the status is unverified (AWS uses 412).
            Self::DryRunOperation => (412, "DryRunOperationError", s(MSG_DRY_RUN)),
            Self::InvalidTagKey => (400, "InvalidParameter.TagKey", invalid("TagKey", None)),
            Self::InvalidTagValue => (400, "InvalidParameter.TagValue", invalid("TagValue", None)),
            Self::DuplicateTagKey => (400, "Duplicate.TagKey", s(MSG_DUPLICATE_TAG)),
            Self::AuditUnavailable => (500, "InternalFailure", s(MSG_INTERNAL)),
            Self::RamForbidden => (403, "NoPermission", s(MSG_RAM_FORBIDDEN)),
            Self::SourceThrottled => (400, "Throttling", s(MSG_THROTTLING)),
            Self::AccessKeyThrottled => (400, "Throttling.User", s(MSG_THROTTLING)),
            Self::NonceJournal(_) => (500, "InternalFailure", s(MSG_INTERNAL)),
            // The code the SDKs retry (alibaba-kms-api-next.md, "Retry and back-off"): a
            // sealed node is unavailable for now, and comes back once unsealed.
            Self::Sealed => (503, "ServiceUnavailableTemporary", s(MSG_SEALED)),
            Self::Operator(e) => return operator_wire(e),
            Self::Kms(e) => return kms_wire(e),
        };
        WireError {
            status,
            code,
            message,
        }
    }
}

/// The mapping of the operator's refusals. The codes are openkms' own (Alibaba has no
/// unseal API), in Alibaba's error format; none of them says anything of a share's value.
fn operator_wire(e: &OperatorError) -> WireError {
    let (status, code, message) = match e {
        OperatorError::AlreadyInitialized => (
            409,
            "OperatorAlreadyInitialized",
            s(MSG_ALREADY_INITIALIZED),
        ),
        OperatorError::NotEmpty => (409, "OperatorStoreNotEmpty", s(MSG_STORE_NOT_EMPTY)),
        OperatorError::InitTokenRefused => (403, "InvalidInitToken", s(MSG_INIT_TOKEN)),
        OperatorError::Parameters(p) => (400, "InvalidParameter", p.to_string()),
        OperatorError::Share(ShareRefused::NotInitialised) => {
            (400, "OperatorNotInitialized", s(MSG_NOT_INITIALIZED))
        }
        OperatorError::Share(ShareRefused::Malformed) => {
            (400, "InvalidShare.Malformed", s(MSG_SHARE_MALFORMED))
        }
        OperatorError::Share(ShareRefused::OtherSplit) => (
            400,
            "InvalidShare.OtherInitialization",
            s(MSG_SHARE_OTHER_SPLIT),
        ),
        OperatorError::Share(ShareRefused::Wrong) => {
            (400, "InvalidShare.Mismatch", s(MSG_SHARE_WRONG))
        }
        OperatorError::Share(ShareRefused::Repeated) => {
            (400, "InvalidShare.Repeated", s(MSG_SHARE_REPEATED))
        }
        OperatorError::Store(StoreError::Unreachable(_)) => {
            (503, "ServiceUnavailableTemporary", s(MSG_UNREACHABLE))
        }
        OperatorError::Store(_) | OperatorError::Open => (500, "InternalFailure", s(MSG_INTERNAL)),
        OperatorError::Kms(e) => return kms_wire(e),
    };
    WireError {
        status,
        code,
        message,
    }
}

/// The mapping of the core's errors (§4.3, §6).
fn kms_wire(e: &KmsError) -> WireError {
    let (status, code, message) = match e {
        KmsError::InvalidParameter { field, reason } => (
            400,
            "InvalidParameter",
            invalid(field_name(*field), Some(*reason)),
        ),
        KmsError::KeyNotFound => (404, "Forbidden.KeyNotFound", s(MSG_KEY_NOT_FOUND)),
        KmsError::AliasNotFound => (404, "Forbidden.AliasNotFound", s(MSG_ALIAS_NOT_FOUND)),
        KmsError::AliasAlreadyExists => (400, "AliasAlreadyExists", s(MSG_ALIAS_EXISTS)),
        KmsError::KeyVersionNotFound => (
            404,
            "Forbidden.KeyVersionNotFound",
            s(MSG_VERSION_NOT_FOUND),
        ),
        // Not in Alibaba's published tables (unverified); any 4xx is what the SDKs need.
        KmsError::DeletionProtected => (403, "Forbidden.DeletionProtection", s(MSG_PROTECTED)),
        KmsError::KeyStateRejected(state) => state_rejected(*state),
        KmsError::StateModifiedFailed => (409, "Rejected.StateModifiedFailed", s(MSG_STATE)),
        KmsError::UnsupportedOperation => (400, "UnsupportedOperation", s(MSG_UNSUPPORTED)),
        KmsError::RejectedUnsupported => (
            400,
            "Rejected.UnsupportedOperation",
            s(MSG_REJECTED_UNSUPPORTED),
        ),
        KmsError::UnsupportedOrigin => (400, "Unsupported.Origin", s(MSG_ORIGIN)),
        KmsError::InvalidImportToken => (400, "InvalidImportToken", s(MSG_IMPORT_TOKEN)),
        KmsError::ExpiredImportToken => (400, "ExpiredImportToken", s(MSG_IMPORT_TOKEN_EXPIRED)),
        KmsError::InvalidKeyMaterial => (400, "InvalidKeyMaterial", s(MSG_KEY_MATERIAL)),
        KmsError::UnsupportedProtectionLevel => {
            (400, "Unsupported.ProtectionLevel", s(MSG_PROTECTION))
        }
        KmsError::DkmsInstanceNotFound => (403, "Forbidden.DKMSInstanceNotFound", s(MSG_DKMS)),
        KmsError::InvalidCiphertext => (400, "InvalidParameter", invalid("CiphertextBlob", None)),
        // Retryable, like the gateway's own overload answer (spelled as in the older docs).
        KmsError::Contended => (503, "ServiceUnavailableTemporary", s(MSG_CONTENDED)),
        // The gateway's own throttling answer: the work was refused before it started.
        KmsError::Throttled => (400, "Throttling", s(MSG_THROTTLING)),
        KmsError::Forbidden => (403, "Forbidden.NoPermission", s(MSG_FORBIDDEN)),
        KmsError::EntityNotFound(entity) => (404, not_found_code(*entity), s(not_found(*entity))),
        KmsError::EntityExists(entity) => (409, exists_code(*entity), s(exists(*entity))),
        KmsError::DeleteConflict(c) => delete_conflict(*c),
        KmsError::AccessKeyLimit => (409, "LimitExceeded.User.AccessKey", s(MSG_AK_LIMIT)),
        KmsError::LimitExceeded => (400, "Rejected.LimitExceeded", s(MSG_LIMIT_EXCEEDED)),
        KmsError::MalformedPolicy(why) => (400, "MalformedPolicyDocument", malformed(why)),
        // Retryable: the database is restarting or out of reach, and will be back.
        KmsError::Store(StoreError::Unreachable(_)) => {
            (503, "ServiceUnavailableTemporary", s(MSG_UNREACHABLE))
        }
        // Not in Alibaba's tables: the HSM is out of reach or failed (the detail is logged);
        // retryable like an unreachable database.
        KmsError::Custody => (503, "ServiceUnavailableTemporary", s(MSG_UNREACHABLE)),
        // Not in Alibaba's tables (unverified): the version's HSM ciphertext format allows no
        // more encryptions; the key's state is the cause, as for a disabled key.
        KmsError::KeyVersionExhausted => (
            400,
            "Forbidden.KeyVersionExhausted",
            s(MSG_VERSION_EXHAUSTED),
        ),
        KmsError::Store(_) | KmsError::Corrupt => (500, "InternalFailure", s(MSG_INTERNAL)),
        KmsError::Secret(e) => super::secret_error::wire(*e),
    };
    WireError {
        status,
        code,
        message,
    }
}

/// The Alibaba parameter that carries a field.
fn field_name(field: Field) -> &'static str {
    match field {
        Field::KeyId => "KeyId",
        Field::AliasName => "AliasName",
        Field::Description => "Description",
        Field::DeletionProtectionDescription => "DeletionProtectionDescription",
        Field::EncryptionContext => "EncryptionContext",
        Field::Plaintext => "Plaintext",
        Field::NumberOfBytes => "NumberOfBytes",
        Field::PendingWindowInDays => "PendingWindowInDays",
        Field::RotationInterval => "RotationInterval",
        Field::KeyPolicy => "Policy",
        Field::PolicyDocument => "PolicyDocument",
        Field::PolicyName => "PolicyName",
        Field::Tags => "Tags",
        Field::TagKey => "TagKey",
        Field::TagValue => "TagValue",
        Field::UserName => "UserName",
        Field::DisplayName => "DisplayName",
        Field::MobilePhone => "MobilePhone",
        Field::Email => "Email",
        Field::Comments => "Comments",
        Field::KeyMaterial => "KeyMaterial",
        Field::KeyMaterialExpireUnix => "KeyMaterialExpireUnix",
        Field::PasswordLength => "PasswordLength",
        Field::KeySpec => "KeySpec",
        Field::KeyUsage => "KeyUsage",
        Field::Algorithm => "Algorithm",
        Field::SourceEncryptionAlgorithm => "SourceEncryptionAlgorithm",
        Field::Digest => "Digest",
        Field::Password => "Password",
        Field::OldPassword => "OldPassword",
    }
}

/// RAM's codes and messages for identity errors (its documented texts, grammar included).
fn not_found_code(entity: Entity) -> &'static str {
    match entity {
        Entity::User => "EntityNotExist.User",
        Entity::Policy => "EntityNotExist.Policy",
        Entity::UserPolicy => "EntityNotExist.User.Policy",
        Entity::AccessKey => "EntityNotExist.User.AccessKey",
        Entity::LoginProfile => "EntityNotExist.User.LoginProfile",
    }
}

fn not_found(entity: Entity) -> &'static str {
    match entity {
        Entity::User => "The user does not exist.",
        Entity::Policy => "The policy does not exist.",
        Entity::UserPolicy => "The indicate policy of the user does not exist.",
        Entity::AccessKey => "The user access key does not exist.",
        Entity::LoginProfile => "The login policy of the user does not exist.",
    }
}

fn exists_code(entity: Entity) -> &'static str {
    match entity {
        Entity::User => "EntityAlreadyExists.User",
        Entity::Policy => "EntityAlreadyExists.Policy",
        Entity::UserPolicy => "EntityAlreadyExists.User.Policy",
        Entity::AccessKey => "EntityAlreadyExists.User.AccessKey",
        Entity::LoginProfile => "EntityAlreadyExists.User.LoginProfile",
    }
}

fn exists(entity: Entity) -> &'static str {
    match entity {
        Entity::User => "The user does already EXIST.",
        Entity::Policy => "The policy does already EXIST.",
        Entity::UserPolicy => "The user has already been attached this policy.",
        Entity::AccessKey => "The user access key does already EXIST.",
        Entity::LoginProfile => "The login policy of the user does already EXIST.",
    }
}

fn delete_conflict(c: DeleteConflict) -> (u16, &'static str, String) {
    let (code, message) = match c {
        DeleteConflict::UserAccessKey => (
            "DeleteConflict.User.AccessKey",
            "The user CAN NOT has any access key while deleting the user.",
        ),
        DeleteConflict::UserPolicy => (
            "DeleteConflict.User.Policy",
            "The user CAN NOT has any attached policy while deleting the user.",
        ),
        DeleteConflict::PolicyUser => (
            "DeleteConflict.Policy.User",
            "The policy CAN NOT been attached to any user while deleting the policy.",
        ),
    };
    (409, code, s(message))
}

fn malformed(why: &str) -> String {
    format!("The policy document is malformed: {why}.")
}

fn state_rejected(state: KeyState) -> (u16, &'static str, String) {
    match state {
        KeyState::Disabled => (409, "Rejected.Disabled", s(MSG_DISABLED)),
        KeyState::PendingDeletion => (409, "Rejected.PendingDeletion", s(MSG_PENDING_DELETION)),
        KeyState::PendingImport => (409, "Rejected.PendingImport", s(MSG_PENDING_IMPORT)),
        // An Enabled key is never rejected for its state; answer as an illegal transition.
        KeyState::Enabled => (409, "Rejected.StateModifiedFailed", s(MSG_STATE)),
    }
}

fn s(text: &str) -> String {
    text.to_owned()
}

fn missing(name: &str) -> String {
    format!(
        "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
    )
}

fn invalid(name: &str, reason: Option<InvalidReason>) -> String {
    let detail = match reason {
        None | Some(InvalidReason::BadFormat) => String::new(),
        Some(InvalidReason::TooLong { max }) => format!(" It exceeds the limit of {max}."),
        Some(InvalidReason::Empty) => " It must not be empty.".to_owned(),
        Some(InvalidReason::NotAccepted) => " The value is not supported.".to_owned(),
        Some(InvalidReason::ReservedPrefix) => " The prefix alias/acs is reserved.".to_owned(),
        Some(InvalidReason::NotAJsonObjectOfStrings) => {
            " It must be a JSON object whose values are strings.".to_owned()
        }
        Some(InvalidReason::OutOfRange) => " It is out of range.".to_owned(),
    };
    format!("The specified parameter \"{name}\" is not valid.{detail}")
}

fn too_many(max: usize) -> String {
    format!("The request is not valid. It has more than {max} parameters.")
}

fn repeated(name: &str) -> String {
    format!("The specified parameter \"{name}\" is not valid. It is given more than once.")
}

fn mismatch(string_to_sign: &str) -> String {
    // The colon matters: aliyunsdkcore splits the message on ':' and compares the rest with
    // its own string-to-sign (§2.4).
    format!("{MSG_MISMATCH}{string_to_sign}")
}

const MSG_ACTION: &str = "Specified api is not found, please check your url and method.";
const MSG_VERSION: &str = "Specified parameter Version is not valid.";
const MSG_INCOMPLETE: &str = "The request signature does not conform to Aliyun standards.";
const MSG_MISMATCH: &str =
    "Specified signature is not matched with our calculation. server string to sign is:";
const MSG_TS_FORMAT: &str = "Specified time stamp or date value is not well formatted.";
const MSG_TS_EXPIRED: &str = "Specified time stamp or date value is expired.";
const MSG_NONCE: &str = "Specified signature nonce was used already.";
const MSG_NONCE_FULL: &str = "The server is too busy to check a request with a timestamp this old; \
     retry with a fresh Timestamp and SignatureNonce.";
const MSG_AK_NOT_FOUND: &str = "Specified access key is not found.";
const MSG_AK_DISABLED: &str = "This AccessKey is not enabled.";
const MSG_BODY_TOO_LARGE: &str = "The request body is larger than this server accepts.";
const MSG_HEAD_TOO_LARGE: &str =
    "The request line and headers are larger than this server accepts.";
const MSG_BODY_UNREADABLE: &str = "The request body could not be read.";
const MSG_BODY_TIMEOUT: &str = "The request body did not arrive in time.";
const MSG_KEY_NOT_FOUND: &str = "The specified Key is not found.";
const MSG_ALIAS_NOT_FOUND: &str = "The specified Alias is not found.";
const MSG_SECURITY_TOKEN: &str =
    "The security token is not valid: this server issues no STS tokens; sign with an AccessKey.";
const MSG_DRY_RUN: &str = "The request would have succeeded, but DryRun was set.";
const MSG_RESOURCE: &str = "The specified ResourceId is not found.";
const MSG_DUPLICATE_TAG: &str = "The tag key is duplicated.";
const MSG_VERSION_NOT_FOUND: &str = "The specified Key version is not found.";
const MSG_PROTECTED: &str =
    "The key is protected against deletion; disable its deletion protection first.";
const MSG_ALIAS_EXISTS: &str = "AliasName Already Exists.";
const MSG_STATE: &str = "Keystate modified failed.";
const MSG_UNSUPPORTED: &str = "This action is not supported.";
/// `Rejected.UnsupportedOperation`, as the api-docs spell it (next-surfaces §2).
const MSG_REJECTED_UNSUPPORTED: &str = "Unsupported operation.";
/// The BYOK codes' messages, as the api-docs spell them (next-surfaces §2).
const MSG_IMPORT_TOKEN: &str = "import token is invalid";
const MSG_IMPORT_TOKEN_EXPIRED: &str = "import token is expired";
const MSG_KEY_MATERIAL: &str = "key material is invalid";
const MSG_PROTECTION: &str = "This protection level is not valid for this region";
const MSG_DKMS: &str = "The specified DKMS instance is not found.";
const MSG_DISABLED: &str = "The request was rejected because the key state is Disabled.";
const MSG_PENDING_DELETION: &str =
    "The request was rejected because the key state is PendingDeletion.";
const MSG_PENDING_IMPORT: &str = "The request was rejected because the key state is PendingImport.";
const MSG_ORIGIN: &str = "This key origin is not valid for this api";
const MSG_CONTENDED: &str = "The key is being changed by many requests at once; retry the request.";
const MSG_INTERNAL: &str = "Internal Failure.";
const MSG_SEALED: &str = "The server is sealed: it holds no root key until enough unseal shares are submitted (openkms operator unseal); retry the request once it is unsealed.";
const MSG_ALREADY_INITIALIZED: &str =
    "The seal is already initialized; unseal the server with its shares (openkms operator unseal).";
const MSG_STORE_NOT_EMPTY: &str = "The store holds keys made under another root key; initialize the Shamir seal on an empty store.";
const MSG_INIT_TOKEN: &str = "The init token is missing or wrong: pass the contents of <data-dir>/init-token, written by the server at its sealed start (openkms operator init --init-token-file).";
const MSG_NOT_INITIALIZED: &str =
    "The seal is not initialized yet; run openkms operator init first.";
const MSG_SHARE_MALFORMED: &str = "The share is not an unseal share (okms1- followed by 56 base64url characters); no progress was lost.";
const MSG_SHARE_OTHER_SPLIT: &str = "The share belongs to another initialization of the seal (another store); no progress was lost.";
const MSG_SHARE_WRONG: &str =
    "The share is not one of this seal's shares (altered or mistyped?); no progress was lost.";
const MSG_SHARE_REPEATED: &str =
    "This share was already submitted; submit a different share. No progress was lost.";
const MSG_VERSION_EXHAUSTED: &str = "The primary version of this key has reached the encryption \
limit of its HSM ciphertext format; create a new key version (CreateKeyVersion) and retry.";
const MSG_UNREACHABLE: &str = "The service is temporarily unavailable; retry the request.";
const MSG_FORBIDDEN: &str = "This operation is forbidden by permission system.";
const MSG_RAM_FORBIDDEN: &str = "You are not authorized to do this action.";
const MSG_AK_LIMIT: &str = "The access key count of the user access keys beyond the current limits. The maximum number of AKs allowed is 2.";

const MSG_LIMIT_EXCEEDED: &str =
    "The request was rejected because user create resource limit was exceeded.";
const MSG_THROTTLING: &str = "Request was denied due to request throttling.";

/// A short hint on what to do about `code`, where there is an obvious one.
pub fn remedy(code: &str) -> Option<&'static str> {
    Some(match code {
        "SignatureDoesNotMatch" => "Check the AccessKeySecret that signs the request.",
        "InvalidAccessKeyId.NotFound" => "Check the AccessKeyId; it is unknown to this server.",
        "InvalidTimeStamp.Expired" => {
            "The client clock differs from the server by over 15 minutes; sync it."
        }
        "Forbidden.KeyNotFound" => "Check the KeyId; no key with that id or ARN exists.",
        "Forbidden.AliasNotFound" => "Check the alias name, or create it with CreateAlias.",
        "Rejected.Disabled" => "The key is disabled; enable it with EnableKey.",
        "SignatureNonceUsed" => "Send a fresh SignatureNonce with every request.",
        "ServiceUnavailableTemporary" => {
            "Retry later: the server is busy, its database unreachable, or it is sealed (then it answers this until `openkms operator unseal` reaches the threshold)."
        }
        "Forbidden.NoPermission" | "NoPermission" => {
            "The caller's policies (or the key's policy) do not allow this; ask for a grant."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_mismatch_message_has_the_colon() {
        let w = RpcError::SignatureMismatch("POST&%2F&a%3D1".into()).wire();
        assert_eq!(w.status, 400);
        assert_eq!(w.code, "SignatureDoesNotMatch");
        assert_eq!(w.message.split(':').nth(1), Some("POST&%2F&a%3D1"));
    }

    #[test]
    fn decrypt_failures_say_nothing_specific() {
        let w = RpcError::Kms(KmsError::InvalidCiphertext).wire();
        assert_eq!((w.status, w.code), (400, "InvalidParameter"));
        assert_eq!(
            w.message,
            "The specified parameter \"CiphertextBlob\" is not valid."
        );
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = openkms_core::StoreError::Unavailable("disk /secret/path failed".into());
        let w = RpcError::Kms(KmsError::Store(e)).wire();
        assert_eq!((w.status, w.code), (500, "InternalFailure"));
        assert!(!w.message.contains("secret"));
    }

    #[test]
    fn an_unreachable_store_is_a_retryable_503() {
        let e = openkms_core::StoreError::Unreachable("postgres: connection refused".into());
        let w = RpcError::Kms(KmsError::Store(e)).wire();
        assert_eq!((w.status, w.code), (503, "ServiceUnavailableTemporary"));
        assert!(!w.message.contains("postgres"));
    }

    #[test]
    fn plaintext_limit_is_named() {
        let e = KmsError::invalid(Field::Plaintext, InvalidReason::TooLong { max: 6144 });
        let w = RpcError::Kms(e).wire();
        assert!(w.message.contains("Plaintext") && w.message.contains("6144"));
    }
}
