//! AsymmetricSign: a signature over the caller's 32-byte digest, by one version of a key pair.

use openkms_core::asymmetric::SignAlgorithm;
use openkms_core::service::PairBytesOutput;
use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// An AsymmetricSign request.
pub struct AsymmetricSign {
    /// The key pair.
    pub key: KeyRef,
    /// The version that signs.
    pub version_id: String,
    /// The signature algorithm, which must fit the key's spec.
    pub algorithm: SignAlgorithm,
    /// The digest to sign as given: SHA-256(M), or SM3(Z ‖ M) for SM2DSA (any length here;
    /// the service refuses all but 32 bytes).
    pub digest: Vec<u8>,
}

impl Operation for AsymmetricSign {
    const NAME: OpName = OpName::kms("AsymmetricSign");
    type Output = PairBytesOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<PairBytesOutput, KmsError> {
        let (key, version) = (&self.key, &self.version_id);
        call.kms
            .asymmetric_sign(key, version, self.algorithm, &self.digest)
            .await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(output: &PairBytesOutput, event: &mut AuditEvent) {
        event.version(&output.version.key_id, &output.version.version_id);
    }
}
