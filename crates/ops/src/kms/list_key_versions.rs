//! ListKeyVersions: a key's versions, oldest first, a page at a time.

use openkms_core::{KeyRef, KmsError, VersionRecord};

use crate::{AuditEvent, Call, OpName, Operation, Page, Paged, Touch, kms::key_text};

/// A ListKeyVersions request.
pub struct ListKeyVersions {
    /// The key.
    pub key: KeyRef,
    /// The page asked for.
    pub page: Page,
}

impl Operation for ListKeyVersions {
    const NAME: OpName = OpName::kms("ListKeyVersions");
    type Output = Paged<VersionRecord>;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Paged<VersionRecord>, KmsError> {
        let key_id = call.kms.resolve(&self.key).await?;
        let versions = call.kms.list_key_versions(&key_id).await?;
        Ok(self.page.of(versions))
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
