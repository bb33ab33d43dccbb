//! AsymmetricVerify: whether a signature over a digest is valid for one version of a key pair.

use openkms_core::asymmetric::SignAlgorithm;
use openkms_core::service::VerifyOutput;
use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An AsymmetricVerify request.
pub struct AsymmetricVerify {
    /// The key pair.
    pub key: KeyRef,
    /// The version whose public key verifies.
    pub version_id: String,
    /// The signature algorithm, which must fit the key's spec.
    pub algorithm: SignAlgorithm,
    /// The signed digest, as AsymmetricSign took it.
    pub digest: Vec<u8>,
    /// The signature to check.
    pub signature: Vec<u8>,
}

impl Operation for AsymmetricVerify {
    const NAME: OpName = OpName::kms("AsymmetricVerify");
    type Output = VerifyOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<VerifyOutput, KmsError> {
        let (key, version) = (&self.key, &self.version_id);
        call.kms
            .asymmetric_verify(key, version, self.algorithm, &self.digest, &self.signature)
            .await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(output: &VerifyOutput, event: &mut AuditEvent) {
        event.version(&output.version.key_id, &output.version.version_id);
    }
}
