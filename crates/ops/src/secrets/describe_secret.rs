//! DescribeSecret: a secret's metadata (also while scheduled for deletion), with its tags
//! when asked.

use openkms_core::{KmsError, SecretRecord, Tag};

use super::note;
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A DescribeSecret request.
pub struct DescribeSecret {
    /// The secret.
    pub name: String,
    /// Whether to add its tags.
    pub fetch_tags: bool,
}

/// A secret with its tags when asked.
pub struct Described {
    /// The secret.
    pub secret: SecretRecord,
    /// Its tags, when asked.
    pub tags: Option<Vec<Tag>>,
}

impl Operation for DescribeSecret {
    const NAME: OpName = OpName::kms("DescribeSecret");
    type Output = Described;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Described, KmsError> {
        let secret = call.kms.secret(&self.name).await?;
        let tags = match self.fetch_tags {
            true => Some(call.kms.secret_tags(&self.name).await?),
            false => None,
        };
        Ok(Described { secret, tags })
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, None);
    }
}
