//! CreateKeyVersion on the wire: rotate a key by hand; the new version becomes the primary.
//!
//! Parameters: `KeyId`. Reply: `KeyVersion` (`KeyId`, `KeyVersionId`, `CreationDate`). Older
//! versions keep decrypting what they encrypted.

use openkms_core::{KeyService, VersionRecord};
use openkms_ops::kms::CreateKeyVersion;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec};
use crate::codec::values::{KeyVersion, OneVersion};
use crate::rpc::{Params, RpcError};

impl Wire for CreateKeyVersion {
    const SPEC: ActionSpec = ActionSpec {
        about: "Create a new primary version of a key",
        params: &[spec::KEY_ID],
    };
    type Reply<'a> = OneVersion<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        Ok(Self { key })
    }

    fn encode<'a>(version: &'a VersionRecord, _: &KeyService) -> Result<OneVersion<'a>, RpcError> {
        Ok(OneVersion {
            key_version: KeyVersion::of(version),
        })
    }
}
