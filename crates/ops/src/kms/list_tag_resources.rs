//! ListTagResources: tags of several keys (or of every key), optionally only some tags.

use openkms_core::{KeyRef, KmsError, Tag};

use crate::kms::{KeyTags, tag_lists};
use crate::{Call, OpName, Operation, Touch};

/// A ListTagResources request.
pub struct ListTagResources {
    /// The keys whose tags to list; none means every key.
    pub keys: Vec<KeyRef>,
    /// Only tags matching one of these: same key, and same value unless the filter's value
    /// is empty (then any value). No filter lists every tag.
    pub filter: Vec<Tag>,
}

impl Operation for ListTagResources {
    const NAME: OpName = OpName::kms("ListTagResources");
    type Output = Vec<KeyTags>;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        tag_lists::touches(&mut self.keys, call.kms)
    }

    async fn execute(self, call: &Call<'_>) -> Result<Vec<KeyTags>, KmsError> {
        let kms = call.kms;
        let key_ids = match self.keys.is_empty() {
            true => visible_keys(call).await?,
            false => tag_lists::existing(kms, &self.keys).await?,
        };
        let mut listed = Vec::with_capacity(key_ids.len());
        for key_id in key_ids {
            let mut tags = kms.list_key_tags(&key_id).await?;
            tags.retain(|tag| wanted(&self.filter, tag));
            listed.push(KeyTags { key_id, tags });
        }
        Ok(listed)
    }
}

/// Every key the caller may list the tags of: naming no key asks about the whole account,
/// which the key container allowed, but a key the caller is refused (a Deny, a key policy)
/// stays out of the answer.
async fn visible_keys(call: &Call<'_>) -> Result<Vec<String>, KmsError> {
    let mut visible = Vec::new();
    for key in call.kms.list_keys(&[]).await? {
        if call.allows(ListTagResources::NAME, &key.key_id).await? {
            visible.push(key.key_id);
        }
    }
    Ok(visible)
}

/// Whether `tag` passes `filter`.
fn wanted(filter: &[Tag], tag: &Tag) -> bool {
    filter.is_empty()
        || filter
            .iter()
            .any(|w| w.key == tag.key && (w.value.is_empty() || w.value == tag.value))
}
