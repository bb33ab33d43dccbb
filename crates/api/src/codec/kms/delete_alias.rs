//! DeleteAlias on the wire: remove an alias (the key is untouched).
//!
//! Parameters: `AliasName`. Reply: `RequestId`.

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::DeleteAlias;

use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, required};
use crate::codec::values::Empty;
use crate::rpc::{Params, RpcError};

impl Wire for DeleteAlias {
    const SPEC: ActionSpec = ActionSpec {
        about: "Delete an alias",
        params: &[required("AliasName", "the alias to delete")],
    };
    type Reply<'a> = Empty;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let name = params.required("AliasName")?.to_owned();
        Ok(Self { name })
    }

    fn encode(_: &(), _: &KeyService) -> Result<Empty, RpcError> {
        Ok(Empty {})
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::key(params, call, "AliasName", None)]
    }
}
