//! What the repeat-list tag operations (TagResources, UntagResources, ListTagResources)
//! share: every named key is touched, and every one must exist before any is acted on.

use openkms_core::{KeyRef, KeyService, KmsError};

use crate::Touch;

/// Each key, pinned by the engine; the key container when the request names none.
pub(crate) fn touches<'a>(keys: &'a mut [KeyRef], kms: &KeyService) -> Vec<Touch<'a>> {
    match keys.is_empty() {
        true => vec![Touch::key_container(kms)],
        false => keys.iter_mut().map(Touch::key).collect(),
    }
}

/// The real ids of `keys`, each checked to exist, in order; the first that does not is
/// `KeyNotFound` or `AliasNotFound`.
pub(crate) async fn existing(kms: &KeyService, keys: &[KeyRef]) -> Result<Vec<String>, KmsError> {
    let mut ids = Vec::with_capacity(keys.len());
    for key in keys {
        ids.push(kms.describe_key(key).await?.key_id);
    }
    Ok(ids)
}
