//! ListPolicies on the wire.
//!
//! Parameters: `PolicyType` (both when absent), `Marker`, `MaxItems`. Reply:
//! `Policies.Policy[]`, `IsTruncated`, and `Marker` when there is more.

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_core::model::PolicyType;
use openkms_core::service::{PolicyCursor, PolicyView, system_policies};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::{ListPolicies, Listed};
use serde::Serialize;

use super::{MARKER_PARAMS, PolicyShown, page, truncation};
use crate::codec::spec::{ActionSpec, optional};
use crate::codec::{Wire, cursor};
use crate::rpc::{Params, RpcError};

/// ListPolicies' reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoliciesPage<'a> {
    policies: Policies<'a>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// The `{"Policy":[…]}` wrapper.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policies<'a> {
    policy: Vec<PolicyShown<'a>>,
}

impl Wire for ListPolicies {
    const SPEC: ActionSpec = ActionSpec {
        about: "List RAM policies",
        params: &[
            optional("PolicyType", "System or Custom (default: both)"),
            MARKER_PARAMS[0],
            MARKER_PARAMS[1],
        ],
    };
    type Reply<'a> = PoliciesPage<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let policy_type = match params.optional("PolicyType") {
            None => None,
            Some(t) => Some(PolicyType::parse(t).ok_or(RpcError::invalid("PolicyType"))?),
        };
        let page = page(params, |marker| after_policy(kms, marker))?;
        Ok(Self { policy_type, page })
    }

    fn encode<'a>(
        listed: &'a Listed<PolicyView, PolicyCursor>,
        kms: &KeyService,
    ) -> Result<PoliciesPage<'a>, RpcError> {
        let marker = |c: &PolicyCursor| {
            cursor::encode(kms, "policy", &[c.policy_type.as_str(), &c.policy_name])
        };
        let (is_truncated, marker) = truncation(listed.next.as_ref(), marker);
        Ok(PoliciesPage {
            policies: Policies {
                policy: listed.items.iter().map(PolicyShown::of).collect(),
            },
            is_truncated,
            marker,
        })
    }

    fn fallback(_: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::ram_account(call)]
    }
}

/// The policy a `Marker` names: a type and a name, the name of a System policy being one
/// that exists.
fn after_policy(kms: &KeyService, marker: &str) -> Option<PolicyCursor> {
    let mut parts = cursor::decode(kms, marker, "policy", 2)?;
    let policy_name = parts.pop()?;
    let policy_type = PolicyType::parse(&parts.pop()?)?;
    let known = |name: &str| system_policies().iter().any(|(n, _, _)| *n == name);
    if policy_type == PolicyType::System && !known(&policy_name) {
        return None;
    }
    Some(PolicyCursor {
        policy_type,
        policy_name,
    })
}
