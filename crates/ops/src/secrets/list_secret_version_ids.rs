//! ListSecretVersionIds: a secret's versions newest first with their labels; deprecated
//! (unlabelled) ones only when asked.

use openkms_core::KmsError;
use openkms_core::service::secrets::VersionView;

use super::note;
use crate::{AuditEvent, Call, OpName, Operation, Touch};

/// A ListSecretVersionIds request.
pub struct ListSecretVersionIds {
    /// The secret.
    pub name: String,
    /// Whether unlabelled versions are listed too.
    pub include_deprecated: bool,
    /// The page, from 1.
    pub page: u64,
    /// Versions a page.
    pub size: u64,
}

/// One page of versions.
pub struct VersionPage {
    /// The secret.
    pub name: String,
    /// The versions of the page.
    pub versions: Vec<VersionView>,
    /// How many in all.
    pub total: u64,
    /// The page number.
    pub page: u64,
    /// The page size.
    pub size: u64,
}

impl Operation for ListSecretVersionIds {
    const NAME: OpName = OpName::kms("ListSecretVersionIds");
    type Output = VersionPage;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret(&self.name)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<VersionPage, KmsError> {
        let all = call
            .kms
            .list_secret_versions(&self.name, self.include_deprecated)
            .await?;
        let total = all.len() as u64;
        let skip = usize::try_from(self.page.saturating_sub(1).saturating_mul(self.size));
        let take = usize::try_from(self.size).unwrap_or(usize::MAX);
        let versions = all.into_iter().skip(skip.unwrap_or(usize::MAX)).take(take);
        Ok(VersionPage {
            name: self.name,
            versions: versions.collect(),
            total,
            page: self.page,
            size: self.size,
        })
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        note(event, &self.name, None);
    }
}
