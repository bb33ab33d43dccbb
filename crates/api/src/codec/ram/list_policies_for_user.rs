//! ListPoliciesForUser on the wire.
//!
//! Parameters: `UserName` (required). Reply: `Policies.Policy[]` of `PolicyName`,
//! `PolicyType`, `Description`, `DefaultVersion`, `AttachDate` (no paging, as in RAM).

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_core::service::AttachedPolicy;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::ListPoliciesForUser;
use serde::Serialize;

use super::Date;
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, required};
use crate::rpc::{Params, RpcError};

/// ListPoliciesForUser's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attached<'a> {
    policies: Policies<'a>,
}

/// The `{"Policy":[…]}` wrapper.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policies<'a> {
    policy: Vec<AttachedShown<'a>>,
}

/// One attached policy.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedShown<'a> {
    policy_name: &'a str,
    policy_type: &'static str,
    description: &'a str,
    default_version: &'static str,
    attach_date: Date,
}

impl<'a> AttachedShown<'a> {
    fn of(p: &'a AttachedPolicy) -> Self {
        Self {
            policy_name: &p.attachment.policy_name,
            policy_type: p.attachment.policy_type.as_str(),
            description: &p.description,
            default_version: "v1",
            attach_date: Date(p.attachment.attached_at),
        }
    }
}

impl Wire for ListPoliciesForUser {
    const SPEC: ActionSpec = ActionSpec {
        about: "List the policies attached to a RAM user",
        params: &[required("UserName", "the user's name")],
    };
    type Reply<'a> = Attached<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let user_name = params.required("UserName")?.to_owned();
        Ok(Self { user_name })
    }

    fn encode<'a>(
        attached: &'a Vec<AttachedPolicy>,
        _: &KeyService,
    ) -> Result<Attached<'a>, RpcError> {
        let policy = attached.iter().map(AttachedShown::of).collect();
        Ok(Attached {
            policies: Policies { policy },
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::user(params, call)]
    }
}
