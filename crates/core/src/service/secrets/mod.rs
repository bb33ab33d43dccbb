//! The Secrets Manager use cases (alibaba-kms-api-next.md §5): Generic secrets whose versions
//! are encrypted under a CMK ([`seal`]), with stage labels moved by the rules of [`stages`].
//!
//! Every change is a read-modify-write of the whole secret (record, versions, labels) applied
//! by the store in one transaction under the secret's revision; a concurrent change makes the
//! store answer `Conflict` and the change is computed again from the fresh state. A secret
//! whose scheduled deletion is due is destroyed when it is next read (and by the due-work
//! loop). Managed secret types (Rds, Redis, PolarDB, RAMCredentials, ECS) need Alibaba's cloud
//! services to rotate against and are refused. Secret values only ever appear here in
//! [`SecretBytes`]; nothing in this module logs.

mod admin;
mod seal;

pub use seal::context as secret_context;
pub mod stages;

use super::KeyService;
use crate::error::{KmsError, SecretError, SecretField};
use crate::model::Tag;
use crate::secret::SecretBytes;
use crate::service::{CreateKeyInput, KeyRef, MAX_DESCRIPTION_CHARS};
use crate::store::{
    SecretChange, SecretDataType, SecretRecord, SecretStage, SecretVersion, StoreError,
    StoredSecretVersion,
};
use stages::Labels;

/// The largest secret value, in bytes (Alibaba: 30 KB).
pub const MAX_SECRET_DATA_BYTES: usize = 30_720;
/// The longest secret name, in characters (Alibaba).
pub const MAX_SECRET_NAME_CHARS: usize = 192;
/// The longest version id or stage label, in bytes (Alibaba: 64 characters).
pub const MAX_VERSION_ID_BYTES: usize = 64;
/// The most stage labels one secret carries (bounds what a request reads and writes).
pub const MAX_LABELS: usize = 64;
/// Accepted recovery windows of DeleteSecret, in days.
pub const RECOVERY_WINDOW_DAYS: std::ops::RangeInclusive<i64> = 7..=30;
/// The metadata name under which the service's default secrets CMK is recorded.
pub(crate) const META_DEFAULT_KEY: &str = "secrets_default_key";

/// The deletion protection the default key is created with.
const DEFAULT_KEY_PROTECTION: &str = "openkms Secrets Manager default key";
/// The only secret type served.
pub const GENERIC: &str = "Generic";
/// The managed types Alibaba documents, refused here with `UnsupportedOperation`.
pub const MANAGED_TYPES: &[&str] = &["Rds", "Redis", "PolarDB", "RAMCredentials", "ECS"];
/// Attempts of one change before giving up on a secret changed by too many writers at once.
const MAX_ATTEMPTS: usize = 64;

/// A CreateSecret request.
pub struct NewSecret {
    /// The name.
    pub name: String,
    /// The first version's id.
    pub version_id: String,
    /// The first value.
    pub data: SecretBytes,
    /// How it is meant to be read.
    pub data_type: SecretDataType,
    /// The secret type as asked (`Generic` when absent).
    pub secret_type: String,
    /// The CMK named by `EncryptionKeyId`; `None` for the service's default key.
    pub key: Option<KeyRef>,
    /// The description.
    pub description: String,
    /// Tags.
    pub tags: Vec<Tag>,
    /// A secret policy.
    pub policy: Option<String>,
}

/// How GetSecretValue picks a version.
#[derive(Debug, Clone, Default)]
pub struct VersionSelector {
    /// A version id, when given.
    pub version_id: Option<String>,
    /// A stage label, when given (ACSCurrent when neither is).
    pub stage: Option<String>,
}

/// One version's value with what describes it.
pub struct SecretValue {
    /// The secret.
    pub secret: SecretRecord,
    /// The version read.
    pub version: SecretVersion,
    /// Its labels.
    pub stages: Vec<String>,
    /// The value.
    pub data: SecretBytes,
}

/// A version with its labels (ListSecretVersionIds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionView {
    /// The version.
    pub version: SecretVersion,
    /// Its labels, in byte order (empty: deprecated).
    pub stages: Vec<String>,
}

/// One ListSecrets filter: the secret matches when the key's value is one of `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFilter {
    /// What is compared.
    pub key: FilterKey,
    /// Accepted values (exact, case-sensitive).
    pub values: Vec<String>,
}

/// What a ListSecrets filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKey {
    /// The name.
    SecretName,
    /// The description.
    Description,
    /// The secret type.
    SecretType,
    /// A tag key the secret carries.
    TagKey,
    /// A tag value the secret carries.
    TagValue,
}

fn refused(e: SecretError) -> KmsError {
    KmsError::Secret(e)
}

fn invalid(field: SecretField) -> KmsError {
    KmsError::Secret(SecretError::Invalid(field))
}

/// A secret name: 1–192 characters of `[A-Za-z0-9_/+=.@-]` and CJK (at most 64 of those), not
/// under the reserved `acs/` prefix.
pub fn validate_secret_name(name: &str) -> Result<(), KmsError> {
    let ascii = |c: char| c.is_ascii_alphanumeric() || "_/+=.@-".contains(c);
    let cjk =
        |c: char| ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c);
    let count = name.chars().count();
    let wide = name.chars().filter(|c| cjk(*c)).count();
    let ok = (1..=MAX_SECRET_NAME_CHARS).contains(&count)
        && wide <= 64
        && name.chars().all(|c| ascii(c) || cjk(c))
        && !name.starts_with("acs/");
    ok.then_some(()).ok_or(invalid(SecretField::SecretName))
}

/// A version id or label: 1–64 bytes of printable ASCII without spaces.
fn validate_label(text: &str, field: SecretField) -> Result<(), KmsError> {
    let ok = (1..=MAX_VERSION_ID_BYTES).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(()).ok_or(invalid(field))
}

fn validate_data(data: &SecretBytes) -> Result<(), KmsError> {
    match data.len() <= MAX_SECRET_DATA_BYTES {
        true => Ok(()),
        false => Err(invalid(SecretField::SecretData)),
    }
}

fn validate_description(text: &str) -> Result<(), KmsError> {
    match text.chars().count() <= MAX_DESCRIPTION_CHARS {
        true => Ok(()),
        false => Err(invalid(SecretField::Description)),
    }
}

fn validate_policy(policy: &str) -> Result<(), KmsError> {
    super::keys::validate_policy(policy).map_err(|_| invalid(SecretField::Policy))
}

/// The labels as a map.
fn label_map(rows: Vec<SecretStage>) -> Labels {
    rows.into_iter().map(|s| (s.stage, s.version_id)).collect()
}

/// The labels as rows of `name`.
fn label_rows(name: &str, labels: &Labels) -> Vec<SecretStage> {
    let row = |(stage, version): (&String, &String)| SecretStage {
        secret_name: name.to_owned(),
        stage: stage.clone(),
        version_id: version.clone(),
    };
    labels.iter().map(row).collect()
}

impl KeyService {
    /// The ARN of a secret.
    pub fn secret_arn(&self, name: &str) -> String {
        format!(
            "acs:kms:{}:{}:secret/{name}",
            self.region_id, self.account_id
        )
    }

    /// Reads a `SecretName` parameter: a name, or a secret ARN of this region and account
    /// (another account's ARN names no secret here).
    pub fn parse_secret_name(&self, text: &str) -> Result<String, KmsError> {
        let name = match text.strip_prefix("acs:kms:") {
            None => text,
            Some(rest) => {
                let prefix = format!("{}:{}:secret/", self.region_id, self.account_id);
                rest.strip_prefix(&prefix)
                    .ok_or(refused(SecretError::NotFound))?
            }
        };
        validate_secret_name(name)?;
        Ok(name.to_owned())
    }

    /// A secret as stored, destroying it first if its deletion is due; `NotFound` if absent.
    pub async fn secret(&self, name: &str) -> Result<SecretRecord, KmsError> {
        let found = self.store.get_secret(name).await?;
        let Some(secret) = found else {
            return Err(refused(SecretError::NotFound));
        };
        if secret
            .planned_delete_at
            .is_some_and(|at| at <= self.clock.now())
        {
            self.destroy_secret(name).await?;
            return Err(refused(SecretError::NotFound));
        }
        Ok(secret)
    }

    /// A secret not scheduled for deletion (`InDeleteWindow` otherwise). For GetSecretValue
    /// this code is unverified (alibaba-kms-api-next.md §8.9): the api-docs list
    /// `Rejected.ResourceInDeleteWindow` for the writes only, and neither the SDKs' sources
    /// (aliyun-python-sdk-kms, alibabacloud-kms20160120) nor the two secrets clients name any
    /// code for a read in the window; the clients raise every code but the retryable ones, so
    /// an application sees it at once.
    async fn live_secret(&self, name: &str) -> Result<SecretRecord, KmsError> {
        let secret = self.secret(name).await?;
        match secret.planned_delete_at {
            Some(_) => Err(refused(SecretError::InDeleteWindow)),
            None => Ok(secret),
        }
    }

    /// Destroys a secret now (ignoring one already gone).
    async fn destroy_secret(&self, name: &str) -> Result<(), KmsError> {
        match self.store.destroy_secret(name).await {
            Ok(()) | Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Destroys every secret whose scheduled deletion is due; how many.
    pub async fn purge_due_secrets(&self) -> Result<usize, KmsError> {
        let due = self.store.due_secrets(self.clock.now()).await?;
        for name in &due {
            self.destroy_secret(name).await?;
        }
        Ok(due.len())
    }

    /// The CMK a secret's versions are sealed under: the one it names, or the default key.
    pub async fn secret_key_id(&self, secret: &SecretRecord) -> Result<String, KmsError> {
        match &secret.encryption_key_id {
            Some(id) => Ok(id.clone()),
            None => self.default_secret_key().await,
        }
    }

    /// The service's default secrets CMK: a symmetric software key the service creates the
    /// first time a secret is created without `EncryptionKeyId`, recorded in the metadata
    /// (put-if-absent, so nodes racing to create it agree on one; a loser's key is scheduled
    /// for deletion at once).
    async fn default_secret_key(&self) -> Result<String, KmsError> {
        if let Some(id) = self.store.get_meta(META_DEFAULT_KEY).await? {
            return String::from_utf8(id).map_err(|_| KmsError::Corrupt);
        }
        let mut input = CreateKeyInput::of_spec(crate::model::KeySpec::AliyunAes256);
        input.description = "openkms Secrets Manager default key".to_owned();
        let key = self.create_key(input).await?;
        let stored = self
            .store
            .put_meta_if_absent(META_DEFAULT_KEY, key.key_id.as_bytes())
            .await?;
        if !stored {
            let _ = self.schedule_key_deletion(&key.key_id, 7).await;
            return Box::pin(self.default_secret_key()).await;
        }
        self.set_deletion_protection(&key.key_id, Some(DEFAULT_KEY_PROTECTION.to_owned()))
            .await?;
        Ok(key.key_id)
    }

    /// Whether `key_id` is the Secrets Manager's default key, which only the root identity
    /// may administer (disable, schedule for deletion, change its policy, description or
    /// deletion protection): every secret created without `EncryptionKeyId` depends on it.
    pub async fn is_secrets_default_key(&self, key_id: &str) -> Result<bool, KmsError> {
        Ok(self
            .store
            .get_meta(META_DEFAULT_KEY)
            .await?
            .is_some_and(|id| id == key_id.as_bytes()))
    }

    /// CreateSecret: a Generic secret with its first version, marked ACSCurrent.
    pub async fn create_secret(&self, input: NewSecret) -> Result<SecretRecord, KmsError> {
        check_new(&input)?;
        let key_id = match &input.key {
            Some(key) => Some(self.usable_secret_key(key).await?),
            None => None,
        };
        let sealing_key = match &key_id {
            Some(id) => id.clone(),
            None => self.default_secret_key().await?,
        };
        let now = self.clock.now();
        let record = SecretRecord {
            name: input.name.clone(),
            secret_type: GENERIC.to_owned(),
            description: input.description,
            encryption_key_id: key_id,
            created_at: now,
            updated_at: now,
            planned_delete_at: None,
            policy: input.policy,
            revision: 1,
        };
        let ciphertext = self
            .seal_secret_value(&sealing_key, &input.name, &input.version_id, &input.data)
            .await?;
        let first = stored_version(
            &input.name,
            &input.version_id,
            now,
            input.data_type,
            ciphertext,
        );
        let labels = Labels::from([(stages::CURRENT.to_owned(), input.version_id.clone())]);
        let _gate = self.admit_secret().await?;
        let result = self
            .store
            .create_secret(
                &record,
                &first,
                &label_rows(&input.name, &labels),
                &input.tags,
            )
            .await;
        match result {
            Ok(()) => Ok(record),
            Err(StoreError::AlreadyExists) => Err(self.exists_error(&input.name).await),
            Err(e) => Err(e.into()),
        }
    }

    /// Why a name is taken: by a live secret, or one scheduled for deletion.
    async fn exists_error(&self, name: &str) -> KmsError {
        match self.store.get_secret(name).await {
            Ok(Some(s)) if s.planned_delete_at.is_some() => refused(SecretError::InDeleteWindow),
            _ => refused(SecretError::Exists),
        }
    }

    /// The key id of a CMK that can seal secrets: it exists, is symmetric and Enabled now (an
    /// EXTERNAL key whose material expired is PendingImport).
    async fn usable_secret_key(&self, key: &KeyRef) -> Result<String, KmsError> {
        let key_id = self.resolve(key).await?;
        let cached = self.load_key(&key_id).await?;
        let symmetric = matches!(
            cached.record.spec,
            crate::model::KeySpec::AliyunAes256 | crate::model::KeySpec::AliyunSm4
        );
        if !symmetric {
            return Err(KmsError::UnsupportedOperation);
        }
        let now = self.clock.now();
        match super::imports::effective_state(&cached.record, cached.material_expire_at, now) {
            crate::model::KeyState::Enabled => Ok(key_id),
            state => Err(KmsError::KeyStateRejected(state)),
        }
    }

    /// GetSecretValue: the version named by id, or carrying the stage (ACSCurrent by default).
    pub async fn get_secret_value(
        &self,
        name: &str,
        selector: &VersionSelector,
    ) -> Result<SecretValue, KmsError> {
        let secret = self.live_secret(name).await?;
        let labels = label_map(self.store.list_secret_stages(name).await?);
        let version_id = pick_version(&labels, selector)?;
        let versions = self.store.list_secret_versions(name).await?;
        let version = versions
            .into_iter()
            .find(|v| v.version_id == version_id)
            .ok_or(refused(SecretError::NotFound))?;
        let stored = self.store.secret_ciphertext(name, &version_id).await?;
        let stored = stored.ok_or(refused(SecretError::NotFound))?;
        let data = self.open_secret_value(name, &version_id, &stored).await?;
        Ok(SecretValue {
            stages: stages::of_version(&labels, &version_id),
            secret,
            version,
            data,
        })
    }

    /// PutSecretValue: a new version, labelled by `labels` (ACSCurrent when `None`); the
    /// labels now on it. The same id with the same value again changes nothing and succeeds
    /// when `may_read` (the caller may read the version); otherwise an existing id is always
    /// `VersionExists`, or the answer would tell whether a guess equals the stored value.
    pub async fn put_secret_value(
        &self,
        name: &str,
        version_id: &str,
        data: SecretBytes,
        data_type: SecretDataType,
        labels: Option<Vec<String>>,
        may_read: bool,
    ) -> Result<Vec<String>, KmsError> {
        validate_label(version_id, SecretField::VersionId)?;
        validate_data(&data)?;
        for label in labels.iter().flatten() {
            validate_label(label, SecretField::VersionStages)?;
        }
        for _ in 0..MAX_ATTEMPTS {
            let secret = self.live_secret(name).await?;
            let current = label_map(self.store.list_secret_stages(name).await?);
            let versions = self.store.list_secret_versions(name).await?;
            if versions.iter().any(|v| v.version_id == version_id) {
                if !may_read {
                    return Err(refused(SecretError::VersionExists));
                }
                return self.same_put(&secret, version_id, &data, &current).await;
            }
            let next = stages::put(&current, version_id, labels.as_deref());
            let change = self
                .put_change(secret, versions, next.clone(), version_id, &data, data_type)
                .await?;
            match self.store.update_secret(&change).await {
                Ok(()) => return Ok(stages::of_version(&next, version_id)),
                Err(StoreError::Conflict | StoreError::AlreadyExists) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(KmsError::Contended)
    }

    /// A re-Put of an existing version: success if the value is the same, else
    /// `VersionExists`.
    async fn same_put(
        &self,
        secret: &SecretRecord,
        version_id: &str,
        data: &SecretBytes,
        labels: &Labels,
    ) -> Result<Vec<String>, KmsError> {
        let stored = self
            .store
            .secret_ciphertext(&secret.name, version_id)
            .await?;
        let stored = stored.ok_or(refused(SecretError::NotFound))?;
        let old = self
            .open_secret_value(&secret.name, version_id, &stored)
            .await?;
        match old.ct_eq(data.expose_secret()) {
            true => Ok(stages::of_version(labels, version_id)),
            false => Err(refused(SecretError::VersionExists)),
        }
    }

    /// The change adding `version_id` with `labels`, dropping what the cap asks.
    async fn put_change(
        &self,
        secret: SecretRecord,
        mut versions: Vec<SecretVersion>,
        labels: Labels,
        version_id: &str,
        data: &SecretBytes,
        data_type: SecretDataType,
    ) -> Result<SecretChange, KmsError> {
        if labels.len() > MAX_LABELS {
            return Err(refused(SecretError::LimitExceeded));
        }
        let now = self.clock.now();
        let key_id = self.secret_key_id(&secret).await?;
        let ciphertext = self
            .seal_secret_value(&key_id, &secret.name, version_id, data)
            .await?;
        let at = version_time(&versions, now);
        let added = stored_version(&secret.name, version_id, at, data_type, ciphertext);
        versions.push(added.version.clone());
        let dropped = stages::over_cap(&labels, &versions, version_id)?;
        Ok(SecretChange {
            stages: label_rows(&secret.name, &labels),
            secret: next_record(secret, now),
            added: Some(added),
            dropped,
        })
    }

    /// UpdateSecretVersionStage.
    pub async fn update_secret_version_stage(
        &self,
        name: &str,
        stage: &str,
        remove_from: Option<&str>,
        move_to: Option<&str>,
    ) -> Result<(), KmsError> {
        validate_label(stage, SecretField::VersionStage)?;
        self.change_secret(name, |labels, versions| {
            let next = stages::update(labels, versions, stage, remove_from, move_to)?;
            match next.len() > MAX_LABELS {
                true => Err(refused(SecretError::LimitExceeded)),
                false => Ok(next),
            }
        })
        .await
    }

    /// Applies a change of labels (and the record's update time) under the revision rule.
    async fn change_secret(
        &self,
        name: &str,
        relabel: impl Fn(&Labels, &[SecretVersion]) -> Result<Labels, KmsError>,
    ) -> Result<(), KmsError> {
        for _ in 0..MAX_ATTEMPTS {
            let secret = self.live_secret(name).await?;
            let labels = label_map(self.store.list_secret_stages(name).await?);
            let versions = self.store.list_secret_versions(name).await?;
            let next = relabel(&labels, &versions)?;
            let change = SecretChange {
                stages: label_rows(name, &next),
                secret: next_record(secret, self.clock.now()),
                added: None,
                dropped: vec![],
            };
            match self.store.update_secret(&change).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(KmsError::Contended)
    }

    /// Changes the record alone (labels kept) with `edit`, under the revision rule.
    async fn edit_secret(
        &self,
        name: &str,
        live: bool,
        edit: impl Fn(&mut SecretRecord) -> Result<(), KmsError>,
    ) -> Result<SecretRecord, KmsError> {
        for _ in 0..MAX_ATTEMPTS {
            let secret = match live {
                true => self.live_secret(name).await?,
                false => self.secret(name).await?,
            };
            let labels = self.store.list_secret_stages(name).await?;
            let mut next = next_record(secret, self.clock.now());
            edit(&mut next)?;
            let change = SecretChange {
                secret: next.clone(),
                added: None,
                dropped: vec![],
                stages: labels,
            };
            match self.store.update_secret(&change).await {
                Ok(()) => return Ok(next),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(KmsError::Contended)
    }

    /// UpdateSecret: a new description (the only setting of a Generic secret).
    pub async fn update_secret(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> Result<(), KmsError> {
        if let Some(text) = description {
            validate_description(text)?;
        }
        self.edit_secret(name, true, |s| {
            if let Some(text) = description {
                s.description = text.to_owned();
            }
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// DeleteSecret: destroyed now when `force`, else scheduled `window_days` from now (the
    /// window is checked either way). A secret already scheduled: forced deletion destroys
    /// it, another schedule is `InDeleteWindow`. Answers the planned deletion time.
    pub async fn delete_secret(
        &self,
        name: &str,
        force: bool,
        window_days: i64,
    ) -> Result<i64, KmsError> {
        if !RECOVERY_WINDOW_DAYS.contains(&window_days) {
            return Err(invalid(SecretField::RecoveryWindowInDays));
        }
        let secret = self.secret(name).await?;
        let now = self.clock.now();
        if force {
            self.destroy_secret(name).await?;
            return Ok(now);
        }
        if secret.planned_delete_at.is_some() {
            return Err(refused(SecretError::InDeleteWindow));
        }
        let at = now + window_days * 86_400;
        let done = self
            .edit_secret(name, true, |s| {
                s.planned_delete_at = Some(at);
                Ok(())
            })
            .await?;
        Ok(done.planned_delete_at.unwrap_or(at))
    }

    /// RestoreSecret: cancels a scheduled deletion (`NotDeleted` if none is scheduled).
    pub async fn restore_secret(&self, name: &str) -> Result<(), KmsError> {
        self.edit_secret(name, false, |s| match s.planned_delete_at {
            Some(_) => {
                s.planned_delete_at = None;
                Ok(())
            }
            None => Err(refused(SecretError::NotDeleted)),
        })
        .await
        .map(|_| ())
    }
}

/// The checks of a CreateSecret request that need no store.
fn check_new(input: &NewSecret) -> Result<(), KmsError> {
    validate_secret_name(&input.name)?;
    super::keys::validate_tags(&input.tags)?;
    validate_label(&input.version_id, SecretField::VersionId)?;
    validate_data(&input.data)?;
    validate_description(&input.description)?;
    if let Some(policy) = &input.policy {
        validate_policy(policy)?;
    }
    match input.secret_type.as_str() {
        GENERIC => Ok(()),
        t if MANAGED_TYPES.contains(&t) => Err(KmsError::UnsupportedOperation),
        _ => Err(invalid(SecretField::SecretType)),
    }
}

/// Which version a selector picks: by id (which must carry the stage if one is given too),
/// else the one carrying the stage.
fn pick_version(labels: &Labels, selector: &VersionSelector) -> Result<String, KmsError> {
    let stage = selector.stage.as_deref();
    match (&selector.version_id, stage) {
        (Some(id), None) => Ok(id.clone()),
        (Some(id), Some(stage)) if labels.get(stage) == Some(id) => Ok(id.clone()),
        (Some(_), Some(_)) => Err(refused(SecretError::NotFound)),
        (None, stage) => labels
            .get(stage.unwrap_or(stages::CURRENT))
            .cloned()
            .ok_or(refused(SecretError::NotFound)),
    }
}

/// The record one change later.
fn next_record(secret: SecretRecord, now: i64) -> SecretRecord {
    SecretRecord {
        revision: secret.revision + 1,
        updated_at: now,
        ..secret
    }
}

fn stored_version(
    name: &str,
    version_id: &str,
    at: i64,
    data_type: SecretDataType,
    ciphertext: Vec<u8>,
) -> StoredSecretVersion {
    StoredSecretVersion {
        version: SecretVersion {
            secret_name: name.to_owned(),
            version_id: version_id.to_owned(),
            created_at: at,
            data_type,
        },
        ciphertext,
    }
}

/// The creation time of a version added at `now` after `versions`: later than every one of
/// them (a second after the newest when they were made within the same second), so the store's
/// order (creation time, then id) is the order the versions were added in, and the cap drops
/// the oldest (an id like `v10` does not sort before `v2` made in the same second).
fn version_time(versions: &[SecretVersion], now: i64) -> i64 {
    versions
        .iter()
        .map(|v| v.created_at.saturating_add(1))
        .max()
        .map_or(now, |next| next.max(now))
}

#[cfg(test)]
mod version_time_tests {
    use super::*;

    fn at(id: &str, created_at: i64) -> SecretVersion {
        SecretVersion {
            secret_name: "s".into(),
            version_id: id.into(),
            created_at,
            data_type: SecretDataType::Text,
        }
    }

    #[test]
    fn a_version_is_later_than_every_earlier_one() {
        assert_eq!(version_time(&[], 100), 100);
        assert_eq!(version_time(&[at("v1", 50)], 100), 100);
        assert_eq!(version_time(&[at("v1", 100), at("v2", 100)], 100), 101);
        assert_eq!(version_time(&[at("v1", 100), at("v2", 103)], 100), 104);
    }
}
