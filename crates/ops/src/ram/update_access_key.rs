//! UpdateAccessKey: activate or deactivate a RAM user's AccessKey. An inactive key's
//! requests are refused from the next request on this node.

use openkms_core::KmsError;

use super::{own_user_touch, user_or_caller};
use crate::{Call, OpName, Operation, Touch};

/// An UpdateAccessKey request.
pub struct UpdateAccessKey {
    /// The AccessKeyId.
    pub access_key_id: String,
    /// Whether it may sign requests from now on.
    pub active: bool,
    /// Its user; `None` for the caller's own.
    pub user: Option<String>,
}

impl Operation for UpdateAccessKey {
    const NAME: OpName = OpName::ram("UpdateAccessKey");
    type Output = ();

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![own_user_touch(call.kms, self.user.as_deref(), call.caller)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<(), KmsError> {
        let user = user_or_caller(self.user.as_deref(), call.caller)?;
        let id = &self.access_key_id;
        call.kms.set_access_key_active(user, id, self.active).await
    }
}
