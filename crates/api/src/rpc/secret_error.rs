//! The wire form of the Secrets Manager's refusals (alibaba-kms-api-next.md §2; messages
//! quoted from the api-docs, typos included). One exhaustive `match`, called from the one
//! error mapping (`error::kms_wire`); none of them says anything of a secret's value.

use openkms_core::{SecretError, SecretField};

/// Status, code and message of a secret refusal.
pub(super) fn wire(e: SecretError) -> (u16, &'static str, String) {
    let s = |m: &str| m.to_owned();
    match e {
        SecretError::Invalid(field) => (400, "InvalidParameter", invalid(field)),
        SecretError::NotFound => (404, "Forbidden.ResourceNotFound", s("Resource not found.")),
        SecretError::Exists => (
            409,
            "Rejected.ResourceExist",
            s("The resource already exists."),
        ),
        SecretError::VersionExists => (
            409,
            "Rejected.ResourceExist",
            s("The request was rejected becasue key already exsit"),
        ),
        SecretError::InDeleteWindow => (
            409,
            "Rejected.ResourceInDeleteWindow",
            s("secret in delete peroid"),
        ),
        SecretError::NotDeleted => (409, "Rejected.ResourceInUse", s("restore normal secret")),
        SecretError::LimitExceeded => (
            400,
            "Rejected.LimitExceeded",
            s("exceed secret limits error"),
        ),
        SecretError::StageMismatch => (400, "Rejected.InvalidRequest", s("param mismatch")),
        SecretError::RotationUnsupported => (
            400,
            "Rejected.UnsupportedOperation",
            s("Unsupported operation."),
        ),
    }
}

/// The api-docs' text with the parameter's name filled in.
fn invalid(field: SecretField) -> String {
    format!(
        "some of the specified parameters \"{}\" is not valid",
        name(field)
    )
}

fn name(field: SecretField) -> &'static str {
    match field {
        SecretField::SecretName => "SecretName",
        SecretField::VersionId => "VersionId",
        SecretField::SecretData => "SecretData",
        SecretField::SecretDataType => "SecretDataType",
        SecretField::VersionStage => "VersionStage",
        SecretField::VersionStages => "VersionStages",
        SecretField::SecretType => "SecretType",
        SecretField::Description => "Description",
        SecretField::RecoveryWindowInDays => "RecoveryWindowInDays",
        SecretField::Policy => "Policy",
        SecretField::Filters => "Filters",
        SecretField::Paging => "PageSize",
    }
}
