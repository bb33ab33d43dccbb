//! DescribeKey: a key's full metadata, in any state.
//!
//! Parameters: `KeyId` (id, alias or ARN). Reply: `KeyMetadata` as CreateKey's, plus
//! `DeletionProtection` and `DeletionProtectionDescription`.

use openkms_core::KeyService;
use serde_json::json;

use super::spec::{self, ActionSpec};
use super::{Fields, common};
use crate::rpc::{Params, RpcError};

/// What DescribeKey accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Show a key's metadata",
    params: &[spec::KEY_ID],
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let key = service
        .describe_key(&service.parse_key_ref(params.required("KeyId")?)?)
        .await?;
    let mut metadata = common::key_metadata(service, &key);
    common::deletion_protection(&mut metadata, &key);
    Ok(common::fields(json!({ "KeyMetadata": metadata })))
}
