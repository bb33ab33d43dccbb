//! ListAliasesByKeyId: the aliases of one key, sorted by name, a page at a time.

use openkms_core::{AliasRecord, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Page, Paged, Touch, kms::key_text};

/// A ListAliasesByKeyId request.
pub struct ListAliasesByKeyId {
    /// The key.
    pub key: KeyRef,
    /// The page asked for.
    pub page: Page,
}

impl Operation for ListAliasesByKeyId {
    const NAME: OpName = OpName::kms("ListAliasesByKeyId");
    type Output = Paged<AliasRecord>;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Paged<AliasRecord>, KmsError> {
        let (number, size) = (self.page.number, self.page.size);
        let listed = call
            .kms
            .list_aliases_page(Some(&self.key), number, size)
            .await?;
        Ok(self.page.with(listed))
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }
}
