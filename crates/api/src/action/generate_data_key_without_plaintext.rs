//! GenerateDataKeyWithoutPlaintext: like GenerateDataKey, but the reply carries only the
//! sealed key, for a component that stores it now and has another decrypt it later.
//!
//! Parameters as GenerateDataKey. Reply: `KeyId`, `KeyVersionId`, `CiphertextBlob`.

use base64::Engine as _;
use openkms_core::KeyService;
use serde_json::json;

use super::spec::ActionSpec;
use super::{Fields, common};

use crate::rpc::{Params, RpcError};

/// What GenerateDataKeyWithoutPlaintext accepts.
pub const SPEC: ActionSpec = ActionSpec {
    about: "Generate a data key, returned only encrypted under a key",
    params: &common::DATA_KEY_PARAMS,
};

/// Parses, applies and replies.
pub async fn run(service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
    let out = common::generate_data_key(service, params).await?;
    Ok(common::fields(json!({
        "KeyId": out.key_id,
        "KeyVersionId": out.version_id,
        "CiphertextBlob": common::B64.encode(&out.blob),
    })))
}
