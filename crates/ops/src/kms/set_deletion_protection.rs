//! SetDeletionProtection: protect a key against scheduled deletion, or lift the protection.

use openkms_core::{KeyRecord, KeyRef, KmsError};

use crate::{Call, OpName, Operation, Touch};

/// A SetDeletionProtection request.
pub struct SetDeletionProtection {
    /// The protected key (named by its ARN on the wire).
    pub key: KeyRef,
    /// The protection's description when turning it on; `None` lifts it.
    pub protection: Option<String>,
}

impl Operation for SetDeletionProtection {
    const NAME: OpName = OpName::kms("SetDeletionProtection");
    type Output = KeyRecord;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<KeyRecord, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        call.guard_internal_key(&key_id).await?;
        call.kms
            .set_deletion_protection(&key_id, self.protection)
            .await
    }
}
