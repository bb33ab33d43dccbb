//! GetSecretValue: one version's value, by id or stage (ACSCurrent by default); the caller
//! needs `kms:Decrypt` on the secret's CMK too.

use openkms_core::KmsError;
use openkms_core::service::secrets::{SecretValue, VersionSelector};

use super::{check_secret_cmk, note};
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A GetSecretValue request.
pub struct GetSecretValue {
    /// The secret.
    pub name: String,
    /// Which version.
    pub selector: VersionSelector,
}

impl Operation for GetSecretValue {
    const NAME: OpName = OpName::kms("GetSecretValue");
    /// The value with its version.
    type Output = SecretValue;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<SecretValue, KmsError> {
        let secret = call.kms.secret(&self.name).await?;
        // The key alone first (a refused caller learns nothing of the versions), then with
        // the context of the version read, once it is known.
        if let Some(id) = &secret.encryption_key_id {
            match call.allows(OpName::kms("Decrypt"), id).await? {
                true => {}
                false => return Err(KmsError::Forbidden),
            }
        }
        let value = call
            .kms
            .get_secret_value(&self.name, &self.selector)
            .await?;
        check_secret_cmk(call, "Decrypt", &value.secret, &value.version.version_id).await?;
        Ok(value)
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, self.selector.version_id.as_deref());
    }

    fn audit_output(out: &SecretValue, event: &mut AuditEvent) {
        note(event, &out.secret.name, Some(&out.version.version_id));
    }
}
