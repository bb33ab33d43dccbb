//! UntagResource on the wire: remove tags from a key by tag key.
//!
//! Parameters: `KeyId`, `TagKeys` (JSON `["k1","k2"]`). Reply: `RequestId`.

use openkms_core::KeyService;
use openkms_ops::kms::UntagResource;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for UntagResource {
    const SPEC: ActionSpec = ActionSpec {
        about: "Remove tags from a key",
        params: &[
            spec::KEY_ID,
            required("TagKeys", "JSON array of tag keys such as [\"k1\"]"),
        ],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let tag_keys = serde_json::from_str(params.required("TagKeys")?)
            .map_err(|_| RpcError::invalid("TagKeys"))?;
        Ok(Self { key, tag_keys })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }
}
