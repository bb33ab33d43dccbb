//! DeleteSecret: schedules a secret's deletion after its recovery window, or destroys it now
//! when forced (the window, which Terraform always sends beside force, is then ignored once it
//! is in range: §0.11).

use openkms_core::KmsError;

use super::note;
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A DeleteSecret request.
pub struct DeleteSecret {
    /// The secret.
    pub name: String,
    /// Destroy now, without a recovery window.
    pub force: bool,
    /// The recovery window, days.
    pub window_days: i64,
}

/// What a DeleteSecret did.
pub struct Deleted {
    /// The secret.
    pub name: String,
    /// When it is (or was) destroyed, seconds since the epoch.
    pub planned_delete_at: i64,
}

impl Operation for DeleteSecret {
    const NAME: OpName = OpName::kms("DeleteSecret");
    type Output = Deleted;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Deleted, KmsError> {
        let at = call
            .kms
            .delete_secret(&self.name, self.force, self.window_days)
            .await?;
        Ok(Deleted {
            name: self.name,
            planned_delete_at: at,
        })
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, None);
    }
}
