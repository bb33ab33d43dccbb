//! DescribeKey on the wire: a key's full metadata, in any state.
//!
//! Parameters: `KeyId` (id, alias or ARN). Reply: `KeyMetadata` as CreateKey's, plus
//! `DeletionProtection` and `DeletionProtectionDescription`. The `KeyState` is the one the key
//! is in now (an EXTERNAL key whose material expired shows `PendingImport`), and
//! `MaterialExpireTime` stays shown after the expiry, until a re-import.

use openkms_core::{KeyRecord, KeyService};
use openkms_ops::kms::DescribeKey;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec};
use crate::codec::values::{Described, KeyMetadata};
use crate::rpc::{Params, RpcError};

impl Wire for DescribeKey {
    const SPEC: ActionSpec = ActionSpec {
        about: "Show a key's metadata",
        params: &[spec::KEY_ID],
    };
    type Reply<'a> = Described<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        Ok(Self { key })
    }

    fn encode<'a>(
        (key, expiry): &'a (KeyRecord, Option<i64>),
        kms: &KeyService,
    ) -> Result<Described<'a>, RpcError> {
        let metadata = KeyMetadata::of(kms, key)
            .with_deletion_protection(key)
            .with_material_expiry(*expiry);
        Ok(Described {
            key_metadata: metadata,
        })
    }
}
