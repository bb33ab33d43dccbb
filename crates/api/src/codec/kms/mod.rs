//! The key-management actions on the Alibaba wire, one codec file each.

mod cancel_key_deletion;
mod create_key;
mod create_key_version;
mod decrypt;
mod describe_account_kms_status;
mod describe_key;
mod describe_key_version;
mod describe_regions;
mod disable_key;
mod enable_key;
mod encrypt;
mod generate_data_key;
mod generate_data_key_without_plaintext;
mod get_key_policy;
mod get_random_password;
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
