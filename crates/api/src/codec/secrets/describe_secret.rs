//! DescribeSecret on the wire.
//!
//! Parameters: `SecretName` (required), `FetchTags`. Reply: `Arn`, `SecretName`,
//! `SecretType`, `Description`, `EncryptionKeyId` (absent when the default key is used),
//! `CreateTime`, `UpdateTime`, `PlannedDeleteTime` (when scheduled), `Tags.Tag[]` (with
//! `FetchTags=true`).

use openkms_core::{KeyService, Tag};
use openkms_ops::secrets::{DescribeSecret, Described};
use openkms_ops::{Call, Touch};
use serde::Serialize;

use super::{SECRET_NAME, fallback, secret_name};
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional};
use crate::codec::values::Wrapper;
use crate::rpc::{Params, RpcError, dates};

/// A tag as secret replies show it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagItem<'a> {
    tag_key: &'a str,
    tag_value: &'a str,
}

/// A secret's metadata as DescribeSecret and ListSecrets show it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    secret_name: &'a str,
    secret_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_key_id: Option<&'a str>,
    create_time: String,
    update_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    planned_delete_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Wrapper<Vec<TagItem<'a>>>>,
}

fn tag_items(tags: &[Tag]) -> Vec<TagItem<'_>> {
    tags.iter()
        .map(|t| TagItem {
            tag_key: &t.key,
            tag_value: &t.value,
        })
        .collect()
}

impl<'a> Metadata<'a> {
    /// The full form (DescribeSecret).
    pub fn full(d: &'a Described, kms: &KeyService) -> Self {
        let mut m = Self::listed(d);
        m.arn = Some(kms.secret_arn(&d.secret.name));
        m.description = Some(&d.secret.description);
        m.encryption_key_id = d.secret.encryption_key_id.as_deref();
        m
    }

    /// The listing form (ListSecrets).
    pub fn listed(d: &'a Described) -> Self {
        let s = &d.secret;
        Self {
            arn: None,
            secret_name: &s.name,
            secret_type: &s.secret_type,
            description: None,
            encryption_key_id: None,
            create_time: dates::format(s.created_at),
            update_time: dates::format(s.updated_at),
            planned_delete_time: s.planned_delete_at.map(dates::format),
            tags: d.tags.as_deref().map(|t| Wrapper("Tag", tag_items(t))),
        }
    }
}

impl Wire for DescribeSecret {
    const SPEC: ActionSpec = ActionSpec {
        about: "Show a secret's metadata",
        params: &[
            SECRET_NAME,
            optional("FetchTags", "true to add the secret's tags"),
        ],
    };
    type Reply<'a> = Metadata<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        Ok(Self {
            name: secret_name(params, kms)?,
            fetch_tags: params.bool_or("FetchTags", false)?,
        })
    }

    fn encode<'a>(out: &'a Described, kms: &KeyService) -> Result<Metadata<'a>, RpcError> {
        Ok(Metadata::full(out, kms))
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        fallback(params, call)
    }
}
