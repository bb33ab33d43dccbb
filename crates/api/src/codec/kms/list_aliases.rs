//! ListAliases on the wire: every alias, a page at a time, sorted by name.
//!
//! Parameters: `PageNumber`, `PageSize`. Reply: `Aliases.Alias[]` of `AliasName`, `AliasArn`,
//! `KeyId`, with the paging fields. A request whose paging cannot be read is authorized
//! against the alias container, as a readable one is.

use openkms_core::{AliasRecord, KeyService};
use openkms_ops::Call;
use openkms_ops::kms::ListAliases;
use openkms_ops::{Paged, Touch};

use crate::codec::Wire;
use crate::codec::spec::ActionSpec;
use crate::codec::values::{self, Alias, Listing};
use crate::rpc::{Params, RpcError};

impl Wire for ListAliases {
    const SPEC: ActionSpec = ActionSpec {
        about: "List aliases",
        params: &crate::codec::spec::PAGE_PARAMS,
    };
    type Reply<'a> = Listing<Alias<'a>>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let page = values::page(params)?;
        Ok(Self { page })
    }

    fn encode<'a>(
        aliases: &'a Paged<AliasRecord>,
        kms: &KeyService,
    ) -> Result<Listing<Alias<'a>>, RpcError> {
        Ok(aliases_page(aliases, kms))
    }

    fn fallback(_: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![Touch::alias_container(call.kms)]
    }
}

/// A page of aliases as ListAliases and ListAliasesByKeyId show it.
pub(super) fn aliases_page<'a>(
    aliases: &'a Paged<AliasRecord>,
    kms: &KeyService,
) -> Listing<Alias<'a>> {
    Listing::of(aliases, ("Aliases", "Alias"), |a| Alias::of(kms, a))
}
