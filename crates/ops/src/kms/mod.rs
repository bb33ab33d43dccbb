//! The key-management operations, one file each.

mod asymmetric_decrypt;
mod asymmetric_encrypt;
mod asymmetric_sign;
mod asymmetric_verify;
mod cancel_key_deletion;
mod create_key;
mod create_key_version;
mod decrypt;
mod delete_key_material;
mod describe_account_kms_status;
mod describe_key;
mod describe_key_version;
mod describe_regions;
mod disable_key;
mod enable_key;
mod encrypt;
mod generate_data_key;
mod get_key_policy;
mod get_parameters_for_import;
mod get_public_key;
mod get_random_password;
mod import_key_material;
mod list_aliases;
mod list_aliases_by_key_id;
mod list_key_versions;
mod list_keys;
mod re_encrypt;
mod schedule_key_deletion;
mod set_deletion_protection;
mod set_key_policy;
mod update_key_description;
mod update_rotation_policy;

pub use asymmetric_decrypt::AsymmetricDecrypt;
pub use asymmetric_encrypt::AsymmetricEncrypt;
pub use asymmetric_sign::AsymmetricSign;
pub use asymmetric_verify::AsymmetricVerify;
pub use cancel_key_deletion::CancelKeyDeletion;
pub use create_key::CreateKey;
pub use create_key_version::CreateKeyVersion;
pub use decrypt::Decrypt;
pub use delete_key_material::DeleteKeyMaterial;
pub use describe_account_kms_status::{AccountStatus, DescribeAccountKmsStatus};
pub use describe_key::DescribeKey;
pub use describe_key_version::DescribeKeyVersion;
pub use describe_regions::DescribeRegions;
pub use disable_key::DisableKey;
pub use enable_key::EnableKey;
pub use encrypt::Encrypt;
pub use generate_data_key::{GenerateDataKey, GenerateDataKeyWithoutPlaintext};
pub use get_key_policy::GetKeyPolicy;
pub use get_parameters_for_import::GetParametersForImport;
pub use get_public_key::GetPublicKey;
pub use get_random_password::{DEFAULT_PASSWORD_LENGTH, GetRandomPassword};
pub use import_key_material::ImportKeyMaterial;
pub use list_aliases::ListAliases;
pub use list_aliases_by_key_id::ListAliasesByKeyId;
pub use list_key_versions::ListKeyVersions;
pub use list_keys::ListKeys;
pub use re_encrypt::{ReEncrypt, ReEncryptSource};
pub use schedule_key_deletion::ScheduleKeyDeletion;
pub use set_deletion_protection::SetDeletionProtection;
pub use set_key_policy::SetKeyPolicy;
pub use update_key_description::UpdateKeyDescription;
pub use update_rotation_policy::UpdateRotationPolicy;
mod create_alias;
mod delete_alias;
mod list_resource_tags;
mod list_tag_resources;
mod tag_lists;
mod tag_resource;
mod tag_resources;
mod untag_resource;
mod untag_resources;
mod update_alias;
pub use create_alias::CreateAlias;
pub use delete_alias::DeleteAlias;
pub use list_resource_tags::{KeyTags, ListResourceTags};
pub use list_tag_resources::{ListTagResources, TAG_PAGE_ROWS, TAG_SCAN_ROWS, TagListing};
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
