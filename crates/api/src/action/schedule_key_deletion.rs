//! ScheduleKeyDeletion: destroy a key after a waiting period of 7 to 366 days.
//!
//! Parameters: `KeyId`, `PendingWindowInDays`. Reply: `RequestId`. A key with deletion
//! protection is refused. When the window ends the server destroys the key and its material.

use openkms_core::KeyService;

use super::spec::{self, ActionSpec, required};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What ScheduleKeyDeletion accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Schedule a key's destruction after 7-366 days",
    params: &[
        spec::KEY_ID,
        required("PendingWindowInDays", "days until destruction, 7-366"),
    ],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key_id = common::key_id(service, params).await?;
    let days = params.required("PendingWindowInDays")?;
    let days: i64 = days
        .parse()
        .map_err(|_| RpcError::invalid("PendingWindowInDays"))?;
    service.schedule_key_deletion(&key_id, days).await?;
    Ok(common::empty())
}
