//! DetachPolicyFromUser on the wire: take a policy away from a user.
//!
//! Parameters: `PolicyType`, `PolicyName`, `UserName` (all required). Reply: just the
//! `RequestId`.

use openkms_core::KeyService;
use openkms_ops::Touch;
use openkms_ops::ram::DetachPolicyFromUser;

use super::{ATTACHMENT_PARAMS, Done, attachment, attachment_fallback};
use crate::action::spec::ActionSpec;
use crate::codec::Wire;
use crate::rpc::{Params, RpcError};

impl Wire for DetachPolicyFromUser {
    const SPEC: ActionSpec = ActionSpec {
        about: "Detach a policy from a RAM user",
        params: &ATTACHMENT_PARAMS,
    };
    type Reply<'a> = Done;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        Ok(Self(attachment(params)?))
    }

    fn encode(_: &(), _: &KeyService) -> Result<Done, RpcError> {
        Ok(Done {})
    }

    fn fallback(kms: &KeyService) -> Vec<Touch<'static>> {
        attachment_fallback(kms)
    }
}
