//! The Secrets Manager operations (same API family and version as the key operations), one
//! file each, and what they share: the secret touch, the check that the caller may use the
//! secret's CMK (as Alibaba checks it: `kms:GenerateDataKey` to write a version,
//! `kms:Decrypt` to read one, on the CMK itself), and the audit note (the secret's name and
//! version as `secret/<name>`, never a value).

mod create_secret;
mod delete_secret;
mod describe_secret;
mod get_secret_policy;
mod get_secret_value;
mod list_secret_version_ids;
mod list_secrets;
mod put_secret_value;
mod restore_secret;
mod rotate_secret;
mod set_secret_policy;
pub mod tags;
mod update_secret;
mod update_secret_version_stage;

pub use create_secret::CreateSecret;
pub use delete_secret::{DeleteSecret, Deleted};
pub use describe_secret::{DescribeSecret, Described};
pub use get_secret_policy::GetSecretPolicy;
pub use get_secret_value::GetSecretValue;
pub use list_secret_version_ids::{ListSecretVersionIds, VersionPage};
pub use list_secrets::{ListSecrets, SecretPage};
pub use put_secret_value::PutSecretValue;
pub use restore_secret::RestoreSecret;
pub use rotate_secret::{RotateSecret, UpdateSecretRotationPolicy};
pub use set_secret_policy::SetSecretPolicy;
pub use update_secret::UpdateSecret;
pub use update_secret_version_stage::UpdateSecretVersionStage;

use openkms_core::service::secrets::secret_context;
use openkms_core::{KeyRef, KmsError, SecretRecord};

use crate::{AuditEvent, Call, OpName};

/// How the audit line names a secret: apart from key ids by its prefix.
pub(crate) fn audit_name(name: &str) -> String {
    format!("secret/{name}")
}

/// Notes the secret (and the version) in the audit event.
pub(crate) fn note(event: &mut AuditEvent, name: &str, version: Option<&str>) {
    match version {
        Some(v) => event.version(&audit_name(name), v),
        None => event.key(&audit_name(name)),
    }
}

/// Refuses a caller who may not do `action` on the CMK `key` for the version `version_id` of
/// the secret `name`: the CMK a request names, or the one a secret was created with. Judged as
/// a key touch (an alias's ARN beside its key's) with the context the version's data key is
/// sealed under, `{"SecretName", "VersionId"}`; the answer is the key id that was checked,
/// which the caller must use (an alias is not resolved again). The service's default key is
/// the service's: it is not checked (as Alibaba's service key is not).
pub(crate) async fn check_cmk(
    call: &Call<'_>,
    action: &'static str,
    key: &KeyRef,
    name: &str,
    version_id: &str,
) -> Result<String, KmsError> {
    let context = secret_context(name, version_id)?;
    call.authorize_key(OpName::kms(action), key, &context).await
}

/// [`check_cmk`] for the CMK of a stored secret, when it names one.
pub(crate) async fn check_secret_cmk(
    call: &Call<'_>,
    action: &'static str,
    secret: &SecretRecord,
    version_id: &str,
) -> Result<(), KmsError> {
    match &secret.encryption_key_id {
        Some(id) => check_cmk(
            call,
            action,
            &KeyRef::Id(id.clone()),
            &secret.name,
            version_id,
        )
        .await
        .map(drop),
        None => Ok(()),
    }
}
