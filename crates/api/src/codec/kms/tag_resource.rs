//! TagResource on the wire: add or replace tags on a key.
//!
//! Parameters: `KeyId`, `Tags` (JSON `[{"TagKey":"k","TagValue":"v"}]`). Reply: `RequestId`.

use openkms_core::KeyService;
use openkms_ops::kms::TagResource;

use super::tags;
use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for TagResource {
    const SPEC: ActionSpec = ActionSpec {
        about: "Add or replace tags on a key",
        params: &[
            spec::KEY_ID,
            required(
                "Tags",
                "JSON such as [{\"TagKey\":\"k\",\"TagValue\":\"v\"}]",
            ),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let tags = tags::json_tags(params.required("Tags")?)?;
        Ok(Self { key, tags })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }
}
