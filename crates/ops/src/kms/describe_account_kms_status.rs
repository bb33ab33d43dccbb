//! DescribeAccountKmsStatus: whether the account's KMS is enabled. An openkms server that
//! answers has its KMS enabled: there is no separate activation step to take.

use openkms_core::KmsError;

use crate::{Call, OpName, Operation, Touch};

/// A DescribeAccountKmsStatus request (it has no parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DescribeAccountKmsStatus;

/// The state of the account's KMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    /// Serving.
    Enabled,
}

impl Operation for DescribeAccountKmsStatus {
    const NAME: OpName = OpName::kms("DescribeAccountKmsStatus");
    type Output = AccountStatus;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::account(call.kms)]
    }

    async fn execute(self, _: &Call<'_>) -> Result<AccountStatus, KmsError> {
        Ok(AccountStatus::Enabled)
    }
}
