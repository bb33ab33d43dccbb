//! The key-management actions on the Alibaba wire, one codec file each.

mod decrypt;
mod describe_account_kms_status;
mod encrypt;
mod generate_data_key;
mod generate_data_key_without_plaintext;
mod get_random_password;
mod re_encrypt;
