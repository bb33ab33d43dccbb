//! AttachPolicyToUser on the wire: grant a user a policy; it applies from the next request on this node.
//!
//! Parameters: `PolicyType`, `PolicyName`, `UserName` (all required). Reply: just the
//! `RequestId`.

use openkms_core::KeyService;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::AttachPolicyToUser;

use super::{ATTACHMENT_PARAMS, attachment, attachment_touches};
use crate::codec::Wire;
use crate::codec::spec::ActionSpec;
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for AttachPolicyToUser {
    const SPEC: ActionSpec = ActionSpec {
        about: "Attach a policy to a RAM user",
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
