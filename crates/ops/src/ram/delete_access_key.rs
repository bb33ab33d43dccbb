//! DeleteAccessKey: remove a RAM user's AccessKey.

use openkms_core::KmsError;

use super::{own_user_touch, user_or_caller};
use crate::{Call, OpName, Operation, Touch};

/// A DeleteAccessKey request.
pub struct DeleteAccessKey {
    /// The AccessKeyId.
    pub access_key_id: String,
    /// Its user; `None` for the caller's own.
    pub user: Option<String>,
}

impl Operation for DeleteAccessKey {
    const NAME: OpName = OpName::ram("DeleteAccessKey");
    type Output = ();

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![own_user_touch(call.kms, self.user.as_deref(), call.caller)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        let user = user_or_caller(self.user.as_deref(), call.caller)?;
        call.kms.delete_access_key(user, &self.access_key_id).await
    }
}
