//! CreateSecret: a Generic secret with its first version, encrypted under the named CMK (the
//! caller needs `kms:GenerateDataKey` on it) or the service's default key.

use openkms_core::service::secrets::NewSecret;
use openkms_core::{KmsError, SecretRecord};

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

    async fn execute(self, call: &Call<'_>) -> Result<Self::Output, KmsError> {
        if let Some(key) = &self.0.key {
            check_cmk(call, "GenerateDataKey", key).await?;
        }
        let version = self.0.version_id.clone();
        let secret = call.kms.create_secret(self.0).await?;
        Ok((secret, version))
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.0.name, Some(&self.0.version_id));
    }
}
