//! The Secrets Manager's administrative reads and settings: secret policies, versions listed
//! with their labels, tags, and ListSecrets with its filters. The secrets' values are not read
//! here.

use super::{FilterKey, SecretFilter, VersionView, label_map, refused, stages, validate_policy};
use crate::error::{KmsError, SecretError};
use crate::model::Tag;
use crate::service::{KeyService, MAX_TAGS};
use crate::store::{SecretRecord, StoreError};

impl KeyService {
    /// SetSecretPolicy: replaces the secret policy (a policy document naming principals).
    pub async fn set_secret_policy(&self, name: &str, policy: &str) -> Result<(), KmsError> {
        validate_policy(policy)?;
        self.edit_secret(name, true, |s| {
            s.policy = Some(policy.to_owned());
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// GetSecretPolicy: the secret policy, or the default one.
    pub async fn get_secret_policy(&self, name: &str) -> Result<String, KmsError> {
        let secret = self.secret(name).await?;
        Ok(secret
            .policy
            .unwrap_or_else(|| crate::service::default_key_policy(&self.account_id)))
    }

    /// The policy a secret's authorization reads (`None`: the default, which delegates to the
    /// caller's own policies; also for a secret that does not exist).
    pub(crate) async fn secret_policy_of(&self, name: &str) -> Result<Option<String>, KmsError> {
        Ok(self.store.get_secret(name).await?.and_then(|s| s.policy))
    }

    /// ListSecretVersionIds: versions newest first, only labelled ones unless
    /// `include_deprecated`.
    pub async fn list_secret_versions(
        &self,
        name: &str,
        include_deprecated: bool,
    ) -> Result<Vec<VersionView>, KmsError> {
        self.secret(name).await?;
        let labels = label_map(self.store.list_secret_stages(name).await?);
        let versions = self.store.list_secret_versions(name).await?;
        let views = versions.into_iter().rev().map(|version| VersionView {
            stages: stages::of_version(&labels, &version.version_id),
            version,
        });
        Ok(views
            .filter(|v| include_deprecated || !v.stages.is_empty())
            .collect())
    }

    /// A secret's tags.
    pub async fn secret_tags(&self, name: &str) -> Result<Vec<Tag>, KmsError> {
        Ok(self.store.list_secret_tags(name).await?)
    }

    /// Tags a secret (the tag rules of keys; at most [`MAX_TAGS`]).
    pub async fn tag_secret(&self, name: &str, tags: &[Tag]) -> Result<(), KmsError> {
        crate::service::keys::validate_tags(tags)?;
        self.secret(name).await?;
        match self.store.put_secret_tags(name, tags, MAX_TAGS).await {
            Ok(()) => Ok(()),
            Err(StoreError::ReferenceNotFound) => Err(refused(SecretError::NotFound)),
            Err(StoreError::LimitExceeded) => Err(KmsError::invalid(
                crate::error::Field::Tags,
                crate::error::InvalidReason::TooLong { max: MAX_TAGS },
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes tags of a secret by tag key.
    pub async fn untag_secret(&self, name: &str, keys: &[String]) -> Result<(), KmsError> {
        self.secret(name).await?;
        Ok(self.store.delete_secret_tags(name, keys).await?)
    }

    /// ListSecrets: the page `page` (from 1) of `size` secrets matching every filter, by name,
    /// and how many match. Walks the secrets in keyset pages (O(secrets) per request).
    pub async fn list_secrets(
        &self,
        filters: &[SecretFilter],
        page: u64,
        size: u64,
    ) -> Result<(Vec<SecretRecord>, u64), KmsError> {
        let skip = page.saturating_sub(1).saturating_mul(size);
        let (mut total, mut out, mut after) = (0u64, Vec::new(), None::<String>);
        loop {
            let chunk = self.store.page_secrets(after.as_deref(), 500).await?;
            let Some(last) = chunk.last() else { break };
            after = Some(last.name.clone());
            for secret in chunk {
                if !self.matches(&secret, filters).await? {
                    continue;
                }
                if total >= skip && (out.len() as u64) < size {
                    out.push(secret);
                }
                total += 1;
            }
        }
        Ok((out, total))
    }

    async fn matches(&self, s: &SecretRecord, filters: &[SecretFilter]) -> Result<bool, KmsError> {
        let needs_tags = filters
            .iter()
            .any(|f| matches!(f.key, FilterKey::TagKey | FilterKey::TagValue));
        let tags = match needs_tags {
            true => self.store.list_secret_tags(&s.name).await?,
            false => vec![],
        };
        Ok(filters.iter().all(|f| {
            let any = |v: &str| f.values.iter().any(|x| x == v);
            match f.key {
                FilterKey::SecretName => any(&s.name),
                FilterKey::Description => any(&s.description),
                FilterKey::SecretType => any(&s.secret_type),
                FilterKey::TagKey => tags.iter().any(|t| any(&t.key)),
                FilterKey::TagValue => tags.iter().any(|t| any(&t.value)),
            }
        }))
    }
}
