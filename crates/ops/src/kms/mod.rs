//! The key-management operations, one file each.

mod decrypt;
mod describe_account_kms_status;
mod encrypt;
mod generate_data_key;
mod get_random_password;
mod re_encrypt;

pub use decrypt::Decrypt;
pub use describe_account_kms_status::{AccountStatus, DescribeAccountKmsStatus};
pub use encrypt::Encrypt;
pub use generate_data_key::{GenerateDataKey, GenerateDataKeyWithoutPlaintext};
pub use get_random_password::{DEFAULT_PASSWORD_LENGTH, GetRandomPassword};
pub use re_encrypt::ReEncrypt;

use openkms_core::KeyRef;

/// A key reference as the request named it, for the audit line.
pub(crate) fn key_text(key: &KeyRef) -> &str {
    match key {
        KeyRef::Id(id) => id,
        KeyRef::Alias(name) => name,
    }
}
