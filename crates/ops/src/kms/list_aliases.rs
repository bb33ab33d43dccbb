//! ListAliases: every alias, sorted by name, a page at a time.

use openkms_core::{AliasRecord, KmsError};

use crate::{Call, OpName, Operation, Page, Paged, Touch};

/// A ListAliases request.
pub struct ListAliases {
    /// The page asked for.
    pub page: Page,
}

impl Operation for ListAliases {
    const NAME: OpName = OpName::kms("ListAliases");
    type Output = Paged<AliasRecord>;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::alias_container(call.kms)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Paged<AliasRecord>, KmsError> {
        let (number, size) = (self.page.number, self.page.size);
        let listed = call.kms.list_aliases_page(None, number, size).await?;
        Ok(self.page.with(listed))
    }
}
