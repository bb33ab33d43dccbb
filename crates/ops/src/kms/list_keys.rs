//! ListKeys: the keys passing every filter, a page at a time.

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
        let keys = call.kms.list_keys(&self.filters).await?;
        Ok(self.page.of(keys))
    }
}
