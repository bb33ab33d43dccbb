//! DescribeKeyVersion on the wire: one version of a key.
//!
//! Parameters: `KeyId`, `KeyVersionId`. Reply: `KeyVersion`.

use openkms_core::{KeyService, VersionRecord};
use openkms_ops::kms::DescribeKeyVersion;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec, required};
use crate::codec::values::{KeyVersion, OneVersion};
use crate::rpc::{Params, RpcError};

impl Wire for DescribeKeyVersion {
    const SPEC: ActionSpec = ActionSpec {
        about: "Show one version of a key",
        params: &[spec::KEY_ID, required("KeyVersionId", "the version id")],
    };
    type Reply<'a> = OneVersion<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let version_id = params.required("KeyVersionId")?.to_owned();
        Ok(Self { key, version_id })
    }

    fn encode<'a>(version: &'a VersionRecord, _: &KeyService) -> Result<OneVersion<'a>, RpcError> {
        Ok(OneVersion {
            key_version: KeyVersion::of(version),
        })
    }
}
