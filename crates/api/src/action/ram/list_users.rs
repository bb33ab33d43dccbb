//! ListUsers: every RAM user, sorted by name, a page at a time.
//!
//! Parameters: `Marker`, `MaxItems`. Reply: `Users.User[]`, `IsTruncated`, and `Marker` when
//! there is more.

use openkms_core::KeyService;

use crate::action::Fields;
use crate::action::spec::ActionSpec;
use crate::rpc::{Params, RpcError};

/// What ListUsers accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "List RAM users",
    params: &super::MARKER_PARAMS,
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let users = service.list_users().await?;
    super::marker_page(params, &users, ("Users", "User"), super::user)
}
