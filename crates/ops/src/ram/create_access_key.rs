//! CreateAccessKey: a new AccessKey pair for a RAM user; the only time its secret is shown.

use openkms_core::KmsError;
use openkms_core::service::NewAccessKey;

use super::{own_user_touch, user_or_caller};
use crate::{Call, OpName, Operation, Touch};

/// A CreateAccessKey request.
pub struct CreateAccessKey {
    /// The user; `None` for the caller's own.
    pub user: Option<String>,
}

impl Operation for CreateAccessKey {
    const NAME: OpName = OpName::ram("CreateAccessKey");
    type Output = NewAccessKey;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![own_user_touch(call.kms, self.user.as_deref(), call.caller)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<NewAccessKey, KmsError> {
        let user = user_or_caller(self.user.as_deref(), call.caller)?;
        call.kms.create_access_key(user).await
    }
}
