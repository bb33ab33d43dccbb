//! GetParametersForImport: a fresh wrapping public key and an import token for an EXTERNAL
//! key (BYOK), valid 24 hours.

use openkms_core::byok::WrappingAlgorithm;
use openkms_core::service::ImportParametersOutput;
use openkms_core::{KeyRef, KeySpec, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// A GetParametersForImport request.
pub struct GetParametersForImport {
    /// The EXTERNAL key.
    pub key: KeyRef,
    /// How the client will wrap the material.
    pub algorithm: WrappingAlgorithm,
    /// The wrapping key's spec (`RSA_2048` or `EC_SM2`), fitting `algorithm`.
    pub spec: KeySpec,
}

impl Operation for GetParametersForImport {
    const NAME: OpName = OpName::kms("GetParametersForImport");
    type Output = ImportParametersOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::key(&mut self.key)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<ImportParametersOutput, KmsError> {
        call.kms
            .get_parameters_for_import(&self.key, self.algorithm, self.spec)
            .await
    }

    /// The key only: never the token.
    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.key));
    }

    fn audit_output(output: &ImportParametersOutput, event: &mut AuditEvent) {
        event.key(&output.key_id);
    }
}
