//! The key-management operations, one file each.

mod create_alias;
mod decrypt;
mod delete_alias;
mod encrypt;
mod generate_data_key;
mod list_resource_tags;
mod list_tag_resources;
mod re_encrypt;
mod tag_lists;
mod tag_resource;
mod tag_resources;
mod untag_resource;
mod untag_resources;
mod update_alias;

pub use create_alias::CreateAlias;
pub use decrypt::Decrypt;
pub use delete_alias::DeleteAlias;
pub use encrypt::Encrypt;
pub use generate_data_key::{GenerateDataKey, GenerateDataKeyWithoutPlaintext};
pub use list_resource_tags::{KeyTags, ListResourceTags};
pub use list_tag_resources::ListTagResources;
pub use re_encrypt::ReEncrypt;
pub use tag_resource::TagResource;
pub use tag_resources::TagResources;
pub use untag_resource::UntagResource;
pub use untag_resources::{TagKeys, UntagResources};
pub use update_alias::UpdateAlias;

use openkms_core::KeyRef;

/// A key reference as the request named it, for the audit line.
pub(crate) fn key_text(key: &KeyRef) -> &str {
    match key {
        KeyRef::Id(id) => id,
        KeyRef::Alias(name) => name,
    }
}
