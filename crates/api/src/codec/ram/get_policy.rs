//! GetPolicy on the wire.
//!
//! Parameters: `PolicyType` and `PolicyName` (required). Reply: `Policy` (as ListPolicies
//! shows it) and `DefaultPolicyVersion` with `VersionId` (`v1`), `IsDefaultVersion`,
//! `CreateDate` and `PolicyDocument`.

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_core::service::PolicyView;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::GetPolicy;
use serde::Serialize;

use super::{Date, POLICY_REF, PolicyShown, policy_type};
use crate::codec::Wire;
use crate::codec::spec::ActionSpec;
use crate::rpc::{Params, RpcError};

/// GetPolicy's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shown<'a> {
    policy: PolicyShown<'a>,
    default_policy_version: Version<'a>,
}

/// The policy's one version and its document.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version<'a> {
    version_id: &'static str,
    is_default_version: bool,
    create_date: Date,
    policy_document: &'a str,
}

impl Wire for GetPolicy {
    const SPEC: ActionSpec = ActionSpec {
        about: "Show a RAM policy and its document",
        params: &POLICY_REF,
    };
    type Reply<'a> = Shown<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let policy_type = policy_type(params)?;
        let policy_name = params.required("PolicyName")?.to_owned();
        Ok(Self {
            policy_type,
            policy_name,
        })
    }

    fn encode<'a>(view: &'a PolicyView, _: &KeyService) -> Result<Shown<'a>, RpcError> {
        Ok(Shown {
            policy: PolicyShown::of(view),
            default_policy_version: Version {
                version_id: "v1",
                is_default_version: true,
                create_date: Date(view.record.created_at),
                policy_document: &view.record.document,
            },
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::policy(params, call, None)]
    }
}
