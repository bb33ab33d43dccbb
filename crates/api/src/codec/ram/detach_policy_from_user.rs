//! DetachPolicyFromUser on the wire: take a policy away from a user.
//!
//! Parameters: `PolicyType`, `PolicyName`, `UserName` (all required). Reply: just the
//! `RequestId`.

use openkms_core::KeyService;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::DetachPolicyFromUser;

use super::{ATTACHMENT_PARAMS, attachment, attachment_touches};
use crate::codec::Wire;
use crate::codec::spec::ActionSpec;
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for DetachPolicyFromUser {
    const SPEC: ActionSpec = ActionSpec {
        about: "Detach a policy from a RAM user",
        params: &ATTACHMENT_PARAMS,
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        Ok(Self(attachment(params)?))
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        attachment_touches(params, call)
    }
}
