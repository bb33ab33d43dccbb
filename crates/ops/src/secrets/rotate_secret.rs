//! RotateSecret and UpdateSecretRotationPolicy: served by Alibaba for managed secret types
//! only (Rds, Redis, PolarDB, RAMCredentials, ECS), which need the cloud services they rotate
//! against; this server keeps Generic secrets only, which rotate through PutSecretValue. Both
//! are authorized and the secret looked up (an unknown one is `Forbidden.ResourceNotFound`),
//! then refused with 400 `Rejected.UnsupportedOperation` (§5.12's recommendation).

use openkms_core::{KmsError, SecretError};

use super::note;
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A RotateSecret request.
pub struct RotateSecret {
    /// The secret.
    pub name: String,
}

/// An UpdateSecretRotationPolicy request.
pub struct UpdateSecretRotationPolicy {
    /// The secret.
    pub name: String,
}

async fn refuse(call: &Call<'_>, name: &str) -> Result<(), KmsError> {
    call.kms.secret(name).await?;
    Err(KmsError::Secret(SecretError::RotationUnsupported))
}

impl Operation for RotateSecret {
    const NAME: OpName = OpName::kms("RotateSecret");
    type Output = ();

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        refuse(call, &self.name).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, None);
    }
}

impl Operation for UpdateSecretRotationPolicy {
    const NAME: OpName = OpName::kms("UpdateSecretRotationPolicy");
    type Output = ();

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        refuse(call, &self.name).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, None);
    }
}
