//! CreatePolicy on the wire.
//!
//! Parameters: `PolicyName` and `PolicyDocument` (required), `Description`. Reply: `Policy`
//! with `PolicyName`, `PolicyType` (`Custom`), `Description`, `DefaultVersion` (`v1`),
//! `CreateDate`. A document the policy engine refuses is `MalformedPolicyDocument`.

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_core::model::{PolicyRecord, PolicyType};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::CreatePolicy;
use serde::Serialize;

use super::PolicyShown;
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::rpc::{Params, RpcError};

/// CreatePolicy's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Created<'a> {
    policy: PolicyShown<'a>,
}

impl Wire for CreatePolicy {
    const SPEC: ActionSpec = ActionSpec {
        about: "Create a custom RAM policy",
        params: &[
            required("PolicyName", "1-128 of A-Za-z0-9-"),
            required("PolicyDocument", "the policy JSON, up to 6144 bytes"),
            optional("Description", "up to 1024 characters"),
        ],
    };
    type Reply<'a> = Created<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let policy_name = params.required("PolicyName")?.to_owned();
        let document = params.required("PolicyDocument")?.to_owned();
        let description = params.optional("Description").unwrap_or_default();
        Ok(Self {
            policy_name,
            document,
            description: description.to_owned(),
        })
    }

    fn encode<'a>(policy: &'a PolicyRecord, _: &KeyService) -> Result<Created<'a>, RpcError> {
        Ok(Created {
            policy: PolicyShown::summary(policy, PolicyType::Custom),
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::policy(params, call, Some(PolicyType::Custom))]
    }
}
