//! AsymmetricDecrypt: the plaintext of a bare standard ciphertext, by one version of a key pair.

use openkms_core::asymmetric::EncryptAlgorithm;
use openkms_core::service::PairDecryptOutput;
use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An AsymmetricDecrypt request.
pub struct AsymmetricDecrypt {
    /// The key pair.
    pub key: KeyRef,
    /// The version whose private key decrypts.
    pub version_id: String,
    /// The encryption algorithm, which must fit the key's spec.
    pub algorithm: EncryptAlgorithm,
    /// The ciphertext (the base64-decoded `CiphertextBlob`).
    pub ciphertext: Vec<u8>,
}

impl Operation for AsymmetricDecrypt {
    const NAME: OpName = OpName::kms("AsymmetricDecrypt");
    type Output = PairDecryptOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<PairDecryptOutput, KmsError> {
        let (key, version) = (&self.key, &self.version_id);
        call.kms
            .asymmetric_decrypt(key, version, self.algorithm, &self.ciphertext)
            .await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(output: &PairDecryptOutput, event: &mut AuditEvent) {
        event.version(&output.version.key_id, &output.version.version_id);
    }
}
