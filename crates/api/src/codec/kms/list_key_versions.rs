//! ListKeyVersions on the wire: a key's versions, oldest first, a page at a time.
//!
//! Parameters: `KeyId`, `PageNumber`, `PageSize`. Reply: `KeyVersions.KeyVersion[]` with the
//! paging fields.

use openkms_core::{KeyService, VersionRecord};
use openkms_ops::Paged;
use openkms_ops::kms::ListKeyVersions;

use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec};
use crate::codec::values::{self, KeyVersion, Listing};
use crate::rpc::{Params, RpcError};

impl Wire for ListKeyVersions {
    const SPEC: ActionSpec = ActionSpec {
        about: "List a key's versions",
        params: &spec::KEY_PAGE_PARAMS,
    };
    type Reply<'a> = Listing<KeyVersion<'a>>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let page = values::page(params)?;
        Ok(Self { key, page })
    }

    fn encode<'a>(
        versions: &'a Paged<VersionRecord>,
        _: &KeyService,
    ) -> Result<Listing<KeyVersion<'a>>, RpcError> {
        Ok(Listing::of(
            versions,
            ("KeyVersions", "KeyVersion"),
            KeyVersion::of,
        ))
    }
}
