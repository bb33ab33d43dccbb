//! PutSecretValue: a new version of a secret, moving stage labels by §5.2; the caller needs
//! `kms:GenerateDataKey` on the secret's CMK too.

use openkms_core::{KmsError, SecretBytes, SecretDataType};

use super::{check_secret_cmk, note};
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A PutSecretValue request.
pub struct PutSecretValue {
    /// The secret.
    pub name: String,
    /// The new version's id.
    pub version_id: String,
    /// The value.
    pub data: SecretBytes,
    /// How it is meant to be read.
    pub data_type: SecretDataType,
    /// The labels to put on it (ACSCurrent when `None`).
    pub stages: Option<Vec<String>>,
}

impl Operation for PutSecretValue {
    const NAME: OpName = OpName::kms("PutSecretValue");
    /// The secret, the version, and the labels now on it.
    type Output = (String, String, Vec<String>);

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Self::Output, KmsError> {
        let secret = call.kms.secret(&self.name).await?;
        check_secret_cmk(call, "GenerateDataKey", &secret).await?;
        let stages = call
            .kms
            .put_secret_value(
                &self.name,
                &self.version_id,
                self.data,
                self.data_type,
                self.stages,
            )
            .await?;
        Ok((self.name, self.version_id, stages))
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, Some(&self.version_id));
    }
}
