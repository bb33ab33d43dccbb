//! ReEncrypt: open a ciphertext and seal its plaintext under another key, without the
//! plaintext leaving the service. The source is an openkms ciphertext blob (with the context
//! it was bound to), or a bare asymmetric ciphertext under a named key pair version
//! (next-surfaces §3.7); the destination is always a symmetric key.

use openkms_core::asymmetric::EncryptAlgorithm;
use openkms_core::service::ReEncryptOutput;
use openkms_core::{EncryptionContext, KeyRef, KmsError};

use crate::{AuditEvent, Call, OpName, Operation, Touch, kms::key_text};

/// Where a ReEncrypt's ciphertext comes from.
pub enum ReEncryptSource {
    /// An openkms ciphertext blob; the key is the one the blob names.
    Blob {
        /// The context the blob was bound to.
        context: EncryptionContext,
    },
    /// A bare standard ciphertext made with the public key of a key pair version
    /// (`SourceKeyId`, `SourceKeyVersionId`, `SourceEncryptionAlgorithm`).
    Pair {
        /// The key pair.
        key: KeyRef,
        /// The version whose private key decrypts.
        version_id: String,
        /// How the ciphertext was made.
        algorithm: EncryptAlgorithm,
    },
}

/// A ReEncrypt request.
pub struct ReEncrypt {
    /// The ciphertext to open.
    pub blob: Vec<u8>,
    /// What opens it.
    pub source: ReEncryptSource,
    /// The key to seal under.
    pub destination: KeyRef,
    /// The context to bind the new ciphertext to.
    pub destination_context: EncryptionContext,
}

impl Operation for ReEncrypt {
    const NAME: OpName = OpName::kms("ReEncrypt");
    type Output = ReEncryptOutput;

    fn touches<'a>(&'a mut self, _: &Call<'_>) -> Vec<Touch<'a>> {
        let source = match &mut self.source {
            ReEncryptSource::Blob { context } => Touch::ciphertext(&self.blob, context),
            ReEncryptSource::Pair { key, .. } => Touch::key(key),
        };
        vec![
            source,
            Touch::key_with(&mut self.destination, &self.destination_context),
        ]
    }

    async fn execute(self, call: &Call<'_>) -> Result<ReEncryptOutput, KmsError> {
        let (kms, destination) = (call.kms, &self.destination);
        let context = &self.destination_context;
        match &self.source {
            ReEncryptSource::Blob { context: source } => {
                kms.re_encrypt(&self.blob, source, destination, context)
                    .await
            }
            ReEncryptSource::Pair {
                key,
                version_id,
                algorithm,
            } => {
                let source = (key, version_id.as_str(), *algorithm);
                kms.re_encrypt_from_pair(source, &self.blob, destination, context)
                    .await
            }
        }
    }

    fn audit_request(&self, event: &mut AuditEvent) {
        event.key(key_text(&self.destination));
    }

    fn audit_output(output: &ReEncryptOutput, event: &mut AuditEvent) {
        event.version(&output.sealed.key_id, &output.sealed.version_id);
        event.source(&output.source_key_id, &output.source_version_id);
    }
}
