//! ListPolicies: System and Custom policies (or one type), a page at a time.
//!
//! Parameters: `PolicyType` (both when absent), `Marker`, `MaxItems`. Reply:
//! `Policies.Policy[]`, `IsTruncated`, and `Marker` when there is more.

use openkms_core::KeyService;
use openkms_core::model::PolicyType;

use crate::action::Fields;
use crate::action::spec::{ActionSpec, optional};
use crate::rpc::{Params, RpcError};

/// What ListPolicies accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "List RAM policies",
    params: &[
        optional("PolicyType", "System or Custom (default: both)"),
        super::MARKER_PARAMS[0],
        super::MARKER_PARAMS[1],
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let policy_type = match params.optional("PolicyType") {
        None => None,
        Some(t) => Some(PolicyType::parse(t).ok_or(RpcError::invalid("PolicyType"))?),
    };
    let policies = service.list_policies(policy_type).await?;
    super::marker_page(params, &policies, ("Policies", "Policy"), super::policy)
}
