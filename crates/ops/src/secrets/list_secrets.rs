//! ListSecrets: a page of the secrets matching the filters, by name, with tags when asked.
//! Touches the account's secret container (`acs:kms:<region>:<account>:secret`).

use openkms_core::KmsError;
use openkms_core::service::secrets::SecretFilter;

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
        let (found, total) = call
            .kms
            .list_secrets(&self.filters, self.page, self.size)
            .await?;
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
