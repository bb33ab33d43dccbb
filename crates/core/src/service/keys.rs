//! CreateKey and reading keys: validation, material generation, loading into the cache.
//!
//! A new key gets a random UUID id, a first version whose material the key provider makes and
//! binds to key id and version id, and is written durably with its tags before it is returned.
//! Key pairs, and HSM AES keys, are each generated on a lane of their own, one at a time with
//! at most [`GENERATION_QUEUE`] creates waiting; beyond that a create is throttled. Rendering
//! `KeyMetadata` is the api crate's job.

use crate::error::Field;
use std::sync::Arc;

use super::KeyService;
use super::cache::{CachedKey, VersionKey};
use crate::error::{InvalidReason, KmsError};
use crate::model::{
    KeyRecord, KeySpec, KeyState, KeyUsage, Origin, ProtectionLevel, Tag, VersionRecord,
};
use crate::provider::{KeyBinding, LoadedKey, StoredKey};
use crate::random::uuid_v4;

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 8192;
/// Largest key policy, in bytes.
pub const MAX_POLICY_BYTES: usize = 32768;
/// Most tags on one key.
pub const MAX_TAGS: usize = 20;
/// Longest tag key or value, in characters.
const MAX_TAG_CHARS: usize = 128;
/// Keys generated at once on each generation lane (key pairs; HSM AES keys; by CreateKey,
/// CreateKeyVersion or rotation): one, so the other cores stay free for private-key
/// operations (and a token makes one object at a time anyway).
pub(crate) const GENERATION_PERMITS: usize = 1;
/// Creates that may wait for a generation lane; beyond them a create is answered
/// `Throttling` at once.
pub const GENERATION_QUEUE: usize = 16;

/// What CreateKey needs, already parsed from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateKeyInput {
    /// Free text, up to 8192 characters.
    pub description: String,
    /// The key spec.
    pub spec: KeySpec,
    /// The usage.
    pub usage: KeyUsage,
    /// The origin.
    pub origin: Origin,
    /// The protection level.
    pub protection_level: ProtectionLevel,
    /// Automatic rotation interval in seconds, when rotation is enabled.
    pub rotation_interval: Option<i64>,
    /// Tags to attach.
    pub tags: Vec<Tag>,
    /// A key policy document (a JSON object), if given.
    pub policy: Option<String>,
}

impl CreateKeyInput {
    /// A software key of `spec` for encryption, made by KMS, with nothing else set: what
    /// CreateKey without optional parameters asks for.
    pub fn of_spec(spec: KeySpec) -> Self {
        Self {
            description: String::new(),
            spec,
            usage: KeyUsage::EncryptDecrypt,
            origin: Origin::AliyunKms,
            protection_level: ProtectionLevel::Software,
            rotation_interval: None,
            tags: Vec::new(),
            policy: None,
        }
    }
}

impl KeyService {
    /// Creates a key and its first version; returns the durable record.
    pub async fn create_key(&self, input: CreateKeyInput) -> Result<KeyRecord, KmsError> {
        validate_create(&input)?;
        // A cheap count first, so a refused CreateKey costs no key generation; the gate is
        // taken again (and the count redone) right before the write.
        drop(self.admit_key().await?);
        let key_id = uuid_v4(self.rng.as_ref());
        let version_id = uuid_v4(self.rng.as_ref());
        // An EXTERNAL key's single version has no material until ImportKeyMaterial.
        let made = match input.origin {
            Origin::AliyunKms => Some(
                self.make_material(
                    input.protection_level,
                    input.spec,
                    input.usage,
                    &key_id,
                    &version_id,
                )
                .await?,
            ),
            Origin::External => None,
        };
        let now = self.clock.now();
        let record = new_record(&input, &key_id, &version_id, &self.account_id, now);
        let (stored, loaded) = made.unzip();
        let version = VersionRecord {
            version_id: version_id.clone(),
            key_id: key_id.clone(),
            created_at: now,
            wrapped_material: stored.map(StoredKey::into_bytes).unwrap_or_default(),
        };
        let admitted = self.admit_key().await?;
        self.store
            .create_key(&record, &version, &input.tags)
            .await?;
        drop(admitted);
        let primary = loaded.map(|key| {
            Arc::new(VersionKey {
                version_id,
                key_id,
                key,
            })
        });
        self.cache.changed_key(Arc::new(CachedKey {
            record: record.clone(),
            primary,
            material_expire_at: None,
        }));
        Ok(record)
    }

    /// The key with its primary version loaded, from the cache or the store.
    pub(crate) async fn load_key(&self, key_id: &str) -> Result<Arc<CachedKey>, KmsError> {
        if let Some(key) = self.cache.key(key_id) {
            return Ok(key);
        }
        let generation = self.cache.key_generation();
        let record = self
            .store
            .get_key(key_id)
            .await?
            .ok_or(KmsError::KeyNotFound)?;
        let key = Arc::new(self.cached_key(record).await?);
        self.cache.put_loaded_key(key.clone(), generation);
        Ok(key)
    }

    /// A version loaded by the key provider, from the cache or the store; `None` if unknown.
    pub(crate) async fn load_version(
        &self,
        version_id: &str,
    ) -> Result<Option<Arc<VersionKey>>, KmsError> {
        if let Some(v) = self.cache.version(version_id) {
            return Ok(Some(v));
        }
        let generation = self.cache.key_generation();
        let Some(rec) = self.store.get_version(version_id).await? else {
            return Ok(None);
        };
        let key = self
            .store
            .get_key(&rec.key_id)
            .await?
            .ok_or(KmsError::Corrupt)?;
        self.load_version_record(rec, &key, generation)
            .await
            .map(Some)
    }

    /// The version `rec` of `key` loaded by the key provider and cached (if no key changed
    /// since `generation`).
    pub(crate) async fn load_version_record(
        &self,
        rec: VersionRecord,
        key: &KeyRecord,
        generation: u64,
    ) -> Result<Arc<VersionKey>, KmsError> {
        if rec.wrapped_material.is_empty() {
            // An EXTERNAL key's version whose material was never imported or was deleted.
            return Err(KmsError::KeyStateRejected(KeyState::PendingImport));
        }
        let stored = StoredKey::from_bytes(rec.wrapped_material);
        let loaded = self
            .load_material(
                key.protection_level,
                key.spec,
                stored,
                &rec.key_id,
                &rec.version_id,
            )
            .await?;
        let v = Arc::new(VersionKey {
            version_id: rec.version_id,
            key_id: rec.key_id,
            key: loaded,
        });
        self.cache.put_loaded_version(v.clone(), generation);
        Ok(v)
    }

    /// New material of `spec` for the version `version_id` of `key_id` (a key with `usage`),
    /// made and loaded by the provider of `level`: key pairs on the pair-generation lane, HSM
    /// AES keys on the token-generation lane ([`super::heavy`]; beyond a lane's queue,
    /// [`KmsError::Throttled`]), software AES keys in place.
    pub(crate) async fn make_material(
        &self,
        level: ProtectionLevel,
        spec: KeySpec,
        usage: KeyUsage,
        key_id: &str,
        version_id: &str,
    ) -> Result<(StoredKey, LoadedKey), KmsError> {
        let provider = self.provider_for(level)?;
        let (key_id, version_id) = (key_id.to_owned(), version_id.to_owned());
        let make = move || {
            let bind = KeyBinding::version(&key_id, &version_id);
            let stored = provider.generate(spec, usage, &bind)?;
            let loaded = provider.load(spec, &stored, &bind)?;
            Ok((stored, loaded))
        };
        match (spec.is_asymmetric(), level) {
            (true, _) => self.pair_generation.run(make).await?,
            (false, ProtectionLevel::Hsm) => self.token_generation.run(make).await?,
            (false, ProtectionLevel::Software) => make(),
        }
    }

    /// `stored` loaded by the provider of `level`: an HSM key on the token-load lane (its
    /// search waits while the token makes an object), a software key pair on the CPU lane,
    /// a software AES key in place.
    pub(crate) async fn load_material(
        &self,
        level: ProtectionLevel,
        spec: KeySpec,
        stored: StoredKey,
        key_id: &str,
        version_id: &str,
    ) -> Result<LoadedKey, KmsError> {
        let provider = self.provider_for(level)?;
        let (key_id, version_id) = (key_id.to_owned(), version_id.to_owned());
        let load = move || {
            let bind = KeyBinding::version(&key_id, &version_id);
            provider.load(spec, &stored, &bind)
        };
        match (level, spec.is_asymmetric()) {
            (ProtectionLevel::Hsm, _) => self.token_loads.run(load).await?,
            (ProtectionLevel::Software, true) => self.heavy.run(load).await?,
            (ProtectionLevel::Software, false) => load(),
        }
    }

    /// The key id a [`super::KeyRef`] names, resolving aliases.
    pub async fn resolve(&self, key: &super::KeyRef) -> Result<String, KmsError> {
        match key {
            super::KeyRef::Id(id) => Ok(id.clone()),
            super::KeyRef::Alias(name) => self.resolve_alias(name).await,
        }
    }
}

fn new_record(
    input: &CreateKeyInput,
    key_id: &str,
    version_id: &str,
    account: &str,
    now: i64,
) -> KeyRecord {
    KeyRecord {
        key_id: key_id.to_owned(),
        description: input.description.clone(),
        spec: input.spec,
        usage: input.usage,
        origin: input.origin,
        protection_level: input.protection_level,
        state: match input.origin {
            Origin::AliyunKms => KeyState::Enabled,
            Origin::External => KeyState::PendingImport,
        },
        creator: account.to_owned(),
        created_at: now,
        delete_at: None,
        primary_version: version_id.to_owned(),
        last_rotation_at: now,
        rotation_interval: input.rotation_interval,
        next_rotation_at: input.rotation_interval.map(|i| now + i),
        deletion_protection: None,
        policy: input.policy.clone(),
        revision: 1,
    }
}

fn validate_create(input: &CreateKeyInput) -> Result<(), KmsError> {
    validate_description(&input.description)?;
    validate_kind(input)?;
    if let Some(i) = input.rotation_interval
        && !super::lifecycle::ROTATION_BOUNDS.contains(&i)
    {
        return Err(KmsError::invalid(
            Field::RotationInterval,
            InvalidReason::OutOfRange,
        ));
    }
    validate_tags(&input.tags)?;
    if let Some(policy) = &input.policy {
        validate_policy(policy)?;
    }
    Ok(())
}

/// The spec, usage and rotation fit together (§3.1 of the next-surfaces contract): a usage
/// the spec does not offer is `InvalidParameter` on `KeyUsage`; automatic rotation of a key
/// pair is `UnsupportedOperation` (key pairs rotate only through CreateKeyVersion).
fn validate_kind(input: &CreateKeyInput) -> Result<(), KmsError> {
    if !input.spec.allows(input.usage) {
        return Err(KmsError::invalid(
            Field::KeyUsage,
            InvalidReason::NotAccepted,
        ));
    }
    if input.spec.is_asymmetric() && input.rotation_interval.is_some() {
        return Err(KmsError::UnsupportedOperation);
    }
    if input.origin == Origin::External {
        validate_external(input)?;
    }
    Ok(())
}

/// An EXTERNAL key (next-surfaces §4.1): symmetric (key pairs are imported only in KMS
/// instances, §3.1), without automatic rotation (imported material never rotates), and in
/// software (the PKCS#11 provider makes keys inside its token and cannot take material in):
/// otherwise `UnsupportedOperation`.
fn validate_external(input: &CreateKeyInput) -> Result<(), KmsError> {
    let refused = input.spec.is_asymmetric()
        || input.rotation_interval.is_some()
        || input.protection_level != ProtectionLevel::Software;
    match refused {
        true => Err(KmsError::UnsupportedOperation),
        false => Ok(()),
    }
}

/// A key policy: at most [`MAX_POLICY_BYTES`], in the policy language with a `Principal` in
/// every statement.
pub(crate) fn validate_policy(policy: &str) -> Result<(), KmsError> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(KmsError::invalid(
            Field::KeyPolicy,
            InvalidReason::TooLong {
                max: MAX_POLICY_BYTES,
            },
        ));
    }
    match crate::policy::Policy::parse_as(policy, crate::policy::PolicyKind::Key) {
        Ok(_) => Ok(()),
        Err(_) => Err(KmsError::invalid(
            Field::KeyPolicy,
            InvalidReason::BadFormat,
        )),
    }
}

/// At most 8192 characters of [`plain_text`].
pub(crate) fn validate_description(description: &str) -> Result<(), KmsError> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        let reason = InvalidReason::TooLong {
            max: MAX_DESCRIPTION_CHARS,
        };
        return Err(KmsError::invalid(Field::Description, reason));
    }
    plain_text(Field::Description, description)
}

/// A text that is stored and shown back (descriptions, RAM names and comments) holds only
/// characters every reply format can carry: no control character but tab, line feed and
/// carriage return (XML 1.0 has no way to write the others, even escaped; and NUL is a
/// character not every store can keep), and not U+FFFE or U+FFFF (not XML characters either).
pub(crate) fn plain_text(field: Field, text: &str) -> Result<(), KmsError> {
    let bad = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
    };
    match text.chars().any(bad) {
        true => Err(KmsError::invalid(field, InvalidReason::BadFormat)),
        false => Ok(()),
    }
}

/// Tag rules of §5: at most 20; key and value 1-128 characters of `[A-Za-z0-9/\_-.+=:@]`
/// (values may be empty); keys must not start with `aliyun` or `acs:`; no duplicate keys.
pub(crate) fn validate_tags(tags: &[Tag]) -> Result<(), KmsError> {
    if tags.len() > MAX_TAGS {
        return Err(KmsError::invalid(
            Field::Tags,
            InvalidReason::TooLong { max: MAX_TAGS },
        ));
    }
    let allowed = |s: &str| {
        s.chars().count() <= MAX_TAG_CHARS
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/\\_-.+=:@".contains(c))
    };
    for (i, tag) in tags.iter().enumerate() {
        let reserved = tag.key.starts_with("aliyun") || tag.key.starts_with("acs:");
        if tag.key.is_empty() || reserved || !allowed(&tag.key) {
            return Err(KmsError::invalid(Field::TagKey, InvalidReason::BadFormat));
        }
        if !allowed(&tag.value) {
            return Err(KmsError::invalid(Field::TagValue, InvalidReason::BadFormat));
        }
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(KmsError::invalid(Field::TagKey, InvalidReason::BadFormat));
        }
    }
    Ok(())
}
