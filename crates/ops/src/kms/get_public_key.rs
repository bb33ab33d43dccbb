//! GetPublicKey: the PEM public key of one version of a key pair.

use openkms_core::service::PublicKeyOutput;
use openkms_core::{KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A GetPublicKey request.
pub struct GetPublicKey {
    /// The key pair.
    pub key: KeyRef,
    /// The version whose public key is asked for (required: key pairs have no primary).
    pub version_id: String,
}

impl Operation for GetPublicKey {
    const NAME: OpName = OpName::kms("GetPublicKey");
    type Output = PublicKeyOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<PublicKeyOutput, KmsError> {
        call.kms.get_public_key(&self.key, &self.version_id).await
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(output: &PublicKeyOutput, event: &mut AuditEvent) {
        event.version(&output.version.key_id, &output.version.version_id);
    }
}
