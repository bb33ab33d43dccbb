//! PutSecretValue: a new version of a secret, moving stage labels by §5.2; the caller needs
//! `kms:GenerateDataKey` on the secret's CMK too.

use openkms_core::{KmsError, SecretBytes, SecretDataType, SecretRecord};

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
        check_secret_cmk(call, "GenerateDataKey", &secret, &self.version_id).await?;
        let may_read = may_read(call, &secret, &self.version_id).await?;
        let stages = call
            .kms
            .put_secret_value(
                &self.name,
                &self.version_id,
                self.data,
                self.data_type,
                self.stages,
                may_read,
            )
            .await?;
        Ok((self.name, self.version_id, stages))
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, Some(&self.version_id));
    }
}

/// Whether the caller may read the version `version_id` of `secret` (GetSecretValue on the
/// secret, Decrypt on its CMK with the version's context): only then is a re-Put of the same
/// value a success rather than `Rejected.ResourceExist`.
async fn may_read(
    call: &Call<'_>,
    secret: &SecretRecord,
    version_id: &str,
) -> Result<bool, KmsError> {
    let read = call
        .authorize_touches(
            OpName::kms("GetSecretValue"),
            vec![Touch::secret(&secret.name)],
        )
        .await;
    match read {
        Ok(()) => {}
        Err(KmsError::Forbidden) => return Ok(false),
        Err(e) => return Err(e),
    }
    match check_secret_cmk(call, "Decrypt", secret, version_id).await {
        Ok(()) => Ok(true),
        Err(KmsError::Forbidden) => Ok(false),
        Err(e) => Err(e),
    }
}
