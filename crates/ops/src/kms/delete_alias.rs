//! DeleteAlias: remove an alias; the key it pointed at is untouched.

use openkms_core::KmsError;

use crate::{Call, OpName, Operation, Touch};

/// A DeleteAlias request.
pub struct DeleteAlias {
    /// The alias to delete, as the request gave it.
    pub name: String,
}

impl Operation for DeleteAlias {
    const NAME: OpName = OpName::kms("DeleteAlias");
    type Output = ();

    /// The alias as a key reference (checked, not pinned: the alias itself is acted on); the
    /// key container when the name reads as no key reference.
    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        let touch = match call.kms.parse_key_ref(&self.name) {
            Ok(named) => Touch::named(named),
            Err(_) => Touch::key_container(call.kms),
        };
        vec![touch]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        call.kms.delete_alias(&self.name).await
    }
}
