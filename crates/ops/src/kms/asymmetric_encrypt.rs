//! AsymmetricEncrypt: the bare standard ciphertext of a small plaintext under the public key of
//! one version of a key pair.

use openkms_core::SecretBytes;
use openkms_core::asymmetric::EncryptAlgorithm;
use openkms_core::service::PairBytesOutput;
use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An AsymmetricEncrypt request.
pub struct AsymmetricEncrypt {
    /// The key pair.
    pub key: KeyRef,
    /// The version whose public key encrypts.
    pub version_id: String,
    /// The encryption algorithm, which must fit the key's spec.
    pub algorithm: EncryptAlgorithm,
    /// The raw bytes to encrypt (the base64-decoded `Plaintext`).
    pub plaintext: SecretBytes,
}

impl Operation for AsymmetricEncrypt {
    const NAME: OpName = OpName::kms("AsymmetricEncrypt");
    type Output = PairBytesOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<PairBytesOutput, KmsError> {
        let plaintext = self.plaintext.expose_secret();
        let (key, version) = (&self.key, &self.version_id);
        call.kms
            .asymmetric_encrypt(key, version, self.algorithm, plaintext)
            .await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(output: &PairBytesOutput, event: &mut AuditEvent) {
        event.version(&output.version.key_id, &output.version.version_id);
    }
}
