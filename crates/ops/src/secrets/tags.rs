//! Tags on secrets through the tag actions (`TagResources`, `UntagResources`,
//! `ListTagResources` with `ResourceType=secret`, `ResourceId.N` naming secrets): what they
//! touch and how they run. Every named secret is checked to exist before any is changed.

use openkms_core::{KmsError, Tag};

use crate::kms::KeyTags;
use crate::{Call, Touch};

/// The secrets a tag action names, as touches.
pub fn touches<'a>(secrets: &[String]) -> Vec<Touch<'a>> {
    secrets.iter().map(|name| Touch::secret(name)).collect()
}

/// Checks that every secret exists (`Forbidden.ResourceNotFound` otherwise).
async fn existing(call: &Call<'_>, secrets: &[String]) -> Result<(), KmsError> {
    for name in secrets {
        call.kms.secret(name).await?;
    }
    Ok(())
}

/// Tags every named secret.
pub async fn tag(call: &Call<'_>, secrets: &[String], tags: &[Tag]) -> Result<(), KmsError> {
    existing(call, secrets).await?;
    for name in secrets {
        call.kms.tag_secret(name, tags).await?;
    }
    Ok(())
}

/// Removes the tags with `keys` (every tag when `None`) from every named secret.
pub async fn untag(
    call: &Call<'_>,
    secrets: &[String],
    keys: Option<&[String]>,
) -> Result<(), KmsError> {
    existing(call, secrets).await?;
    for name in secrets {
        let all: Vec<String>;
        let keys = match keys {
            Some(keys) => keys,
            None => {
                all = call
                    .kms
                    .secret_tags(name)
                    .await?
                    .into_iter()
                    .map(|t| t.key)
                    .collect();
                &all
            }
        };
        call.kms.untag_secret(name, keys).await?;
    }
    Ok(())
}

/// The tags of every named secret, those matching `wanted`.
pub async fn list(
    call: &Call<'_>,
    secrets: &[String],
    wanted: impl Fn(&Tag) -> bool,
) -> Result<Vec<KeyTags>, KmsError> {
    existing(call, secrets).await?;
    let mut out = Vec::with_capacity(secrets.len());
    for name in secrets {
        let mut tags = call.kms.secret_tags(name).await?;
        tags.retain(&wanted);
        out.push(KeyTags {
            key_id: name.clone(),
            tags,
        });
    }
    Ok(out)
}
