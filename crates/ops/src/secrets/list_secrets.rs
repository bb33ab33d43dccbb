//! ListSecrets: a page of the secrets matching the filters, by name, with tags when asked.
//! Touches the account's secret container (`acs:kms:<region>:<account>:secret`).

use openkms_core::service::secrets::SecretFilter;
use openkms_core::{KmsError, SecretRecord};

use super::Described;
use crate::{Call, OpName, Operation, Touch};

/// A ListSecrets request.
pub struct ListSecrets {
    /// Every filter must match.
    pub filters: Vec<SecretFilter>,
    /// The page, from 1.
    pub page: u64,
    /// Secrets a page.
    pub size: u64,
    /// Whether to add each secret's tags.
    pub fetch_tags: bool,
}

/// One page of secrets.
pub struct SecretPage {
    /// The secrets.
    pub secrets: Vec<Described>,
    /// How many match in all.
    pub total: u64,
    /// The page number.
    pub page: u64,
    /// The page size.
    pub size: u64,
}

impl Operation for ListSecrets {
    const NAME: OpName = OpName::kms("ListSecrets");
    type Output = SecretPage;

    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>> {
        vec![Touch::secret_container(call.kms)]
    }

    async fn execute(self, call: &Call<'_>) -> Result<SecretPage, KmsError> {
        let (found, total) = match call.caller.is_root() {
            true => {
                call.kms
                    .list_secrets(&self.filters, self.page, self.size)
                    .await?
            }
            false => visible_page(call, &self.filters, self.page, self.size).await?,
        };
        let mut secrets = Vec::with_capacity(found.len());
        for secret in found {
            let tags = match self.fetch_tags {
                true => Some(call.kms.secret_tags(&secret.name).await?),
                false => None,
            };
            secrets.push(Described { secret, tags });
        }
        Ok(SecretPage {
            secrets,
            total,
            page: self.page,
            size: self.size,
        })
    }
}

/// The page of the secrets matching `filters` that the caller may see (`kms:ListSecrets` or
/// `kms:DescribeSecret` on the secret's ARN, its secret policy judged too), and how many it
/// may see in all: a caller allowed only the container learns no other secret's name, tags or
/// metadata, not even through the filters or the count.
async fn visible_page(
    call: &Call<'_>,
    filters: &[SecretFilter],
    page: u64,
    size: u64,
) -> Result<(Vec<SecretRecord>, u64), KmsError> {
    let (all, _) = call.kms.list_secrets(filters, 1, u64::MAX).await?;
    let skip = page.saturating_sub(1).saturating_mul(size);
    let (mut out, mut total) = (Vec::new(), 0u64);
    for secret in all {
        if !may_see(call, &secret.name).await? {
            continue;
        }
        if total >= skip && (out.len() as u64) < size {
            out.push(secret);
        }
        total += 1;
    }
    Ok((out, total))
}

/// Whether the caller may list or describe the secret `name`.
async fn may_see(call: &Call<'_>, name: &str) -> Result<bool, KmsError> {
    for action in ["ListSecrets", "DescribeSecret"] {
        match call
            .authorize_touches(OpName::kms(action), vec![Touch::secret(name)])
            .await
        {
            Ok(()) => return Ok(true),
            Err(KmsError::Forbidden) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}
