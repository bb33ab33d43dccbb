//! GenerateDataKeyWithoutPlaintext (§6.6) on the wire: GenerateDataKey's parameters, its
//! reply without `Plaintext`.

use openkms_core::KeyService;
use openkms_core::service::DataKeyOutput;
use openkms_ops::kms::{GenerateDataKey, GenerateDataKeyWithoutPlaintext};

use crate::codec::Wire;
use crate::codec::spec::ActionSpec;
use crate::codec::values::{Base64, Sealed};
use crate::rpc::{Params, RpcError};

impl Wire for GenerateDataKeyWithoutPlaintext {
    const SPEC: ActionSpec = ActionSpec {
        about: "Generate a data key, returned only encrypted under a key",
        params: &crate::codec::spec::DATA_KEY_PARAMS,
    };
    type Reply<'a> = Sealed<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        GenerateDataKey::decode(params, kms).map(Self)
    }

    fn encode<'a>(out: &'a DataKeyOutput, _: &KeyService) -> Result<Sealed<'a>, RpcError> {
        Ok(Sealed {
            key_id: &out.key_id,
            key_version_id: &out.version_id,
            ciphertext_blob: Base64(&out.blob),
        })
    }
}
