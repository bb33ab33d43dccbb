//! ListAliasesByKeyId on the wire: the aliases of one key, a page at a time.
//!
//! Parameters: `KeyId`, `PageNumber`, `PageSize`. Reply as ListAliases.

use openkms_core::{AliasRecord, KeyService};
use openkms_ops::Paged;
use openkms_ops::kms::ListAliasesByKeyId;

use super::list_aliases::aliases_page;
use crate::codec::Wire;
use crate::codec::spec::{self, ActionSpec};
use crate::codec::values::{self, Alias, Listing};
use crate::rpc::{Params, RpcError};

impl Wire for ListAliasesByKeyId {
    const SPEC: ActionSpec = ActionSpec {
        about: "List the aliases of a key",
        params: &spec::KEY_PAGE_PARAMS,
    };
    type Reply<'a> = Listing<Alias<'a>>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let key = kms.parse_key_ref(params.required("KeyId")?)?;
        let page = values::page(params)?;
        Ok(Self { key, page })
    }

    fn encode<'a>(
        aliases: &'a Paged<AliasRecord>,
        kms: &KeyService,
    ) -> Result<Listing<Alias<'a>>, RpcError> {
        Ok(aliases_page(aliases, kms))
    }
}
