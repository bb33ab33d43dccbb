//! DescribeAccountKmsStatus on the wire: no parameters; reply `AccountStatus` (`Enabled`).

use openkms_core::KeyService;
use openkms_ops::kms::{AccountStatus, DescribeAccountKmsStatus};
use serde::Serialize;

use crate::codec::Wire;
use crate::codec::spec::ActionSpec;
use crate::rpc::{Params, RpcError};

/// DescribeAccountKmsStatus's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Status {
    account_status: &'static str,
}

impl Wire for DescribeAccountKmsStatus {
    const SPEC: ActionSpec = ActionSpec {
        about: "Show whether the account's KMS is enabled",
        params: &[],
    };
    type Reply<'a> = Status;

    fn decode(_: &Params, _: &KeyService) -> Result<Self, RpcError> {
        Ok(Self)
    }

    fn encode(out: &AccountStatus, _: &KeyService) -> Result<Status, RpcError> {
        let account_status = match out {
            AccountStatus::Enabled => "Enabled",
        };
        Ok(Status { account_status })
    }
}
