//! ListKeys: the keys passing every filter, a page at a time (a keyset read of the page; see
//! `KeyService::list_keys_page`).

use openkms_core::service::KeyFilter;
use openkms_core::{KeyRecord, KmsError};

use crate::{Call, OpName, Operation, Page, Paged, Touch};

/// A ListKeys request.
pub struct ListKeys {
    /// The page asked for.
    pub page: Page,
    /// The filters a key must all pass.
    pub filters: Vec<KeyFilter>,
}

impl Operation for ListKeys {
    const NAME: OpName = OpName::kms("ListKeys");
    type Output = Paged<KeyRecord>;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key_container(call.kms)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<Paged<KeyRecord>, KmsError> {
        let (number, size) = (self.page.number, self.page.size);
        let listed = call.kms.list_keys_page(&self.filters, number, size).await?;
        Ok(self.page.with(listed))
    }
}
