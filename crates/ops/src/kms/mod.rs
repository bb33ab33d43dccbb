//! The key-management operations, one file each.

mod decrypt;
mod encrypt;
mod generate_data_key;
mod re_encrypt;

pub use decrypt::Decrypt;
pub use encrypt::Encrypt;
pub use generate_data_key::{GenerateDataKey, GenerateDataKeyWithoutPlaintext};
pub use re_encrypt::ReEncrypt;

use openkms_core::KeyRef;

/// A key reference as the request named it, for the audit line.
pub(crate) fn key_text(key: &KeyRef) -> &str {
    match key {
        KeyRef::Id(id) => id,
        KeyRef::Alias(name) => name,
    }
}
