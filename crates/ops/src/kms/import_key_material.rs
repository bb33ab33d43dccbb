//! ImportKeyMaterial: unwrap customer material with an import token's wrapping key and make
//! it the EXTERNAL key's material (BYOK).

use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An ImportKeyMaterial request. No `Debug`: it holds the wrapped material and the token.
pub struct ImportKeyMaterial {
    /// The EXTERNAL key.
    pub key: KeyRef,
    /// `EncryptedKeyMaterial`, base64-decoded.
    pub encrypted: Vec<u8>,
    /// The `ImportToken` text, as given.
    pub token: String,
    /// `KeyMaterialExpireUnix`: seconds since the epoch, 0 for never.
    pub expire_unix: i64,
}

impl Operation for ImportKeyMaterial {
    const NAME: OpName = OpName::kms("ImportKeyMaterial");
    type Output = String;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<String, KmsError> {
        call.kms
            .import_key_material(&self.key, self.encrypted, &self.token, self.expire_unix)
            .await
    }

    /// The key only: never the material or the token.
    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(key_id: &String, event: &mut AuditEvent) {
        event.key(key_id);
    }
}
