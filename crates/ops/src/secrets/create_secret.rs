//! CreateSecret: a Generic secret with its first version, encrypted under the named CMK (the
//! caller needs `kms:GenerateDataKey` on it) or the service's default key.

use openkms_core::service::secrets::NewSecret;
use openkms_core::{KeyRef, KmsError, SecretRecord};

use super::{check_cmk, note};
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A CreateSecret request.
pub struct CreateSecret(pub NewSecret);

impl Operation for CreateSecret {
    const NAME: OpName = OpName::kms("CreateSecret");
    /// The new secret.
    type Output = (SecretRecord, String);

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.0.name)]
    }

    async fn execute(mut self, call: &Call<'_>) -> Result<Self::Output, KmsError> {
        if self.0.policy.is_some() {
            check_policy_setting(call, &self.0.name).await?;
        }
        if let Some(key) = &self.0.key {
            let name = &self.0.name;
            let pinned = check_cmk(call, "GenerateDataKey", key, name, &self.0.version_id).await?;
            self.0.key = Some(KeyRef::Id(pinned));
        }
        let version = self.0.version_id.clone();
        let secret = call.kms.create_secret(self.0).await?;
        Ok((secret, version))
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.0.name, Some(&self.0.version_id));
    }
}

/// Refuses a `Policy` on CreateSecret to a caller who may not `kms:SetSecretPolicy` on the new
/// secret: a policy can grant other users the secret.
async fn check_policy_setting(call: &Call<'_>, name: &str) -> Result<(), KmsError> {
    call.authorize_touches(OpName::kms("SetSecretPolicy"), vec![Touch::secret(name)])
        .await
}
