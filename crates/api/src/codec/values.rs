//! Reply values the codec files share: base64 written straight into the reply, and the
//! sealed-data reply of the cryptographic actions.

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use serde::{Serialize, Serializer};

/// Bytes shown as standard base64, written into the reply without an intermediate string.
pub struct Base64<'a>(pub &'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&Base64Display::new(self.0, &STANDARD))
    }
}

/// The reply of Encrypt, ReEncrypt and GenerateDataKeyWithoutPlaintext.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Sealed<'a> {
    /// The key that sealed it (the real id).
    pub key_id: &'a str,
    /// The version that sealed it.
    pub key_version_id: &'a str,
    /// The ciphertext.
    pub ciphertext_blob: Base64<'a>,
}
