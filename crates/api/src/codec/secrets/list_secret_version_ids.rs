//! ListSecretVersionIds on the wire.
//!
//! Parameters: `SecretName` (required), `IncludeDeprecated`, `PageNumber`, `PageSize`
//! (default 20, the 2024 documentation's). Reply: `SecretName`,
//! `VersionIds.VersionId[]` of `VersionId`, `CreateTime`, `VersionStages.VersionStage[]`,
//! newest first, with the paging fields.

use openkms_core::KeyService;
use openkms_ops::secrets::{ListSecretVersionIds, VersionPage};
use openkms_ops::{Call, Touch};
use serde::Serialize;

use super::{SECRET_NAME, Stages, fallback, paging, secret_name};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional};
use crate::codec::values::Wrapper;
use crate::rpc::{Params, RpcError, dates};

/// One version in the reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Item<'a> {
    version_id: &'a str,
    create_time: String,
    version_stages: Stages<'a>,
}

/// ListSecretVersionIds' reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Versions<'a> {
    secret_name: &'a str,
    version_ids: Wrapper<Vec<Item<'a>>>,
    page_number: u64,
    page_size: u64,
    total_count: u64,
}

impl Wire for ListSecretVersionIds {
    const SPEC: ActionSpec = ActionSpec {
        about: "List a secret's versions",
        params: &[
            SECRET_NAME,
            optional(
                "IncludeDeprecated",
                "true to list versions without a stage too",
            ),
            optional("PageNumber", "page number, from 1"),
            optional("PageSize", "entries per page, 1-100 (default 20)"),
        ],
    };
    type Reply<'a> = Versions<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let (page, size) = paging(params, 20)?;
        Ok(Self {
            name: secret_name(params, kms)?,
            include_deprecated: params.bool_or("IncludeDeprecated", false)?,
            page,
            size,
        })
    }

    fn encode<'a>(out: &'a VersionPage, _: &KeyService) -> Result<Versions<'a>, RpcError> {
        let items = out.versions.iter().map(|v| Item {
            version_id: &v.version.version_id,
            create_time: dates::format(v.version.created_at),
            version_stages: Stages {
                version_stage: &v.stages,
            },
        });
        Ok(Versions {
            secret_name: &out.name,
            version_ids: Wrapper("VersionId", items.collect()),
            page_number: out.page,
            page_size: out.size,
            total_count: out.total,
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
