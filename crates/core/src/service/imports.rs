//! Key import (BYOK, §4 of the next-surfaces contract): GetParametersForImport,
//! ImportKeyMaterial, DeleteKeyMaterial, and the lazy material expiry of EXTERNAL keys.
//!
//! An EXTERNAL key is made without material, in `PendingImport`, with its single version
//! (`keys::create_key`); that version's stored material is empty until an import. The
//! cryptography (wrapping keys, tokens, unwrap) is [`crate::byok`]'s; this module adds the
//! stored state ([`crate::ImportStore`]): the first material's keyed fingerprint (a re-import
//! must be the same material), the expiry, and token revocation (see [`crate::byok`]'s module
//! doc for when tokens are revoked). Imported material goes through the key provider's
//! `import`, so it is stored wrapped under the root key exactly like generated material, and
//! root-key rotation and backups carry it the same way.
//!
//! Expiry is evaluated on every access with the service's clock ([`effective_state`]): at or
//! after `MaterialExpireTime` the key is `PendingImport` (unless pending deletion) while its
//! record keeps its stored state; the cached key carries the expiry, so the cache never serves
//! material past it. Private-key unwraps run on the blocking lane ([`super::heavy`]), bounded
//! like every other private-key operation; wrapping-key generation runs on a lane of its own
//! ([`WRAPPING_KEY_PERMITS`] at once, at most [`WRAPPING_KEY_QUEUE`] waiting, beyond that
//! `Throttling`), so GetParametersForImport cannot starve Sign, Decrypt or imports.

use std::sync::Arc;

use super::cache::CachedKey;
use super::lifecycle::MAX_CONFLICT_RETRIES;
use super::{KeyRef, KeyService};
use crate::byok::{self, ImportParameters, UNWRAP_FAILURE_LIMIT, WrappingAlgorithm};
use crate::error::KmsError;
use crate::model::{ImportRecord, KeyRecord, KeySpec, KeyState, Origin};
use crate::provider::KeyBinding;
use crate::secret::SecretBytes;
use crate::store::StoreError;

/// What a failed unwrap is fingerprinted over (see `import_key_material`); as long as the
/// longest material (32 bytes).
const DUMMY_MATERIAL: [u8; 32] = [0; 32];

/// Wrapping keys generated at once (GetParametersForImport; an RSA-2048 key each).
pub(crate) const WRAPPING_KEY_PERMITS: usize = 1;
/// GetParametersForImport requests that may wait for the wrapping-key lane; beyond them a
/// request is answered `Throttling` at once.
pub(crate) const WRAPPING_KEY_QUEUE: usize = 8;

/// The state a key is in at `now` (seconds): its record's, except that an EXTERNAL key whose
/// material expired (`now >= material_expire_at`) is `PendingImport` unless it is pending
/// deletion (§4.6).
pub(crate) fn effective_state(
    record: &KeyRecord,
    material_expire_at: Option<i64>,
    now: i64,
) -> KeyState {
    let expired = material_expire_at.is_some_and(|at| now >= at);
    match record.state {
        KeyState::Enabled | KeyState::Disabled if expired => KeyState::PendingImport,
        state => state,
    }
}

/// What GetParametersForImport answers.
#[derive(Debug)]
pub struct ImportParametersOutput {
    /// The real key id.
    pub key_id: String,
    /// The wrapping key and the token.
    pub parameters: ImportParameters,
}

impl KeyService {
    /// The cache entry of `record`: its primary version loaded (none when an EXTERNAL key
    /// has no material) and its material expiry.
    pub(crate) async fn cached_key(&self, record: KeyRecord) -> Result<CachedKey, KmsError> {
        let material_expire_at = match record.origin {
            Origin::External => self.import_state(&record.key_id).await?.material_expire_at,
            Origin::AliyunKms => None,
        };
        let primary = match self.load_version(&record.primary_version).await {
            Ok(Some(v)) => Some(v),
            Ok(None) => return Err(KmsError::Corrupt),
            Err(KmsError::KeyStateRejected(KeyState::PendingImport))
                if record.origin == Origin::External =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        Ok(CachedKey {
            record,
            primary,
            material_expire_at,
        })
    }

    /// Whether the key of `key` holds material now (always, unless it is an EXTERNAL key
    /// without). Every material write moves the key's revision on, so a write at `key`'s next
    /// revision fails if this answer went stale.
    pub(crate) async fn has_material(&self, key: &KeyRecord) -> Result<bool, KmsError> {
        if key.origin != Origin::External {
            return Ok(true);
        }
        let version = self.store.get_version(&key.primary_version).await?;
        Ok(version.is_some_and(|v| !v.wrapped_material.is_empty()))
    }

    /// `record` in the state it is in now ([`effective_state`]; only an EXTERNAL Enabled or
    /// Disabled key can differ from its stored state, and only those read their import state).
    pub(crate) async fn with_effective_state(
        &self,
        mut record: KeyRecord,
    ) -> Result<KeyRecord, KmsError> {
        let may_expire = matches!(record.state, KeyState::Enabled | KeyState::Disabled);
        if record.origin == Origin::External && may_expire {
            let expiry = self.import_state(&record.key_id).await?.material_expire_at;
            record.state = effective_state(&record, expiry, self.clock.now());
        }
        Ok(record)
    }

    /// DescribeKey with the material expiry: the record with the key's state at this moment
    /// ([`effective_state`]), and when imported material expires (`None`: never, or not
    /// EXTERNAL).
    pub async fn describe_key_expiry(
        &self,
        key: &KeyRef,
    ) -> Result<(KeyRecord, Option<i64>), KmsError> {
        let key_id = self.resolve(key).await?;
        let mut record = self.existing_key(&key_id).await?;
        let expiry = match record.origin {
            Origin::External => self.import_state(&key_id).await?.material_expire_at,
            Origin::AliyunKms => None,
        };
        record.state = effective_state(&record, expiry, self.clock.now());
        Ok((record, expiry))
    }

    /// GetParametersForImport: a fresh wrapping key of `spec` and a token for the key, valid
    /// 24 hours; in any key state. `algorithm` must fit `spec` (the codec checks).
    pub async fn get_parameters_for_import(
        &self,
        key: &KeyRef,
        algorithm: WrappingAlgorithm,
        spec: KeySpec,
    ) -> Result<ImportParametersOutput, KmsError> {
        let key_id = self.resolve(key).await?;
        external(&self.existing_key(&key_id).await?)?;
        let (root, rng, now_ms) = (self.root.clone(), self.rng.clone(), self.clock.now_millis());
        let id = key_id.clone();
        let issue = move || byok::issue(root.as_ref(), rng.as_ref(), &id, algorithm, spec, now_ms);
        let parameters = self.wrapping_keys.run(issue).await??;
        Ok(ImportParametersOutput { key_id, parameters })
    }

    /// ImportKeyMaterial: unwraps `encrypted` with the token's wrapping key and stores it as
    /// the key's material, expiring at `expire_unix` (0: never). The first import fixes the
    /// material; a re-import must bring the same. Returns the real key id.
    pub async fn import_key_material(
        &self,
        key: &KeyRef,
        encrypted: Vec<u8>,
        token: &str,
        expire_unix: i64,
    ) -> Result<String, KmsError> {
        let key_id = self.resolve(key).await?;
        let record = self.existing_key(&key_id).await?;
        external(&record)?;
        if record.state == KeyState::PendingDeletion {
            return Err(KmsError::StateModifiedFailed);
        }
        let expiry = byok::material_expiry(expire_unix, self.clock.now())?;
        let state = self.import_state(&key_id).await?;
        let opened = byok::open_token(
            self.root.as_ref(),
            &key_id,
            token,
            self.clock.now_millis(),
            state.tokens_not_before,
        )?;
        let issued_ms = opened.issued_ms();
        self.reserve_unwrap(&key_id, issued_ms).await?;
        let len = record.spec.material_len();
        let unwrap = move || opened.unwrap_material(&encrypted, len);
        let unwrapped = self.heavy.run(unwrap).await?;
        // The fingerprint and its comparison run whether or not the unwrap succeeded (over a
        // fixed dummy when it did not), so the reply's timing does not tell the two apart.
        let fingerprinted = match &unwrapped {
            Ok(material) => material.expose_secret(),
            Err(_) => &DUMMY_MATERIAL[..len.min(DUMMY_MATERIAL.len())],
        };
        let fingerprint = self.cursor_key.material_fingerprint(&key_id, fingerprinted);
        let same = state
            .fingerprint
            .as_deref()
            .is_none_or(|first| byok::same_fingerprint(first, &fingerprint));
        let material = match unwrapped {
            Ok(material) if same => material,
            _ => return Err(self.failed_import(&key_id).await),
        };
        let import = ImportRecord {
            fingerprint: Some(fingerprint.to_vec()),
            material_expire_at: expiry,
            ..ImportRecord::fresh(&key_id)
        };
        let Ok(wrapped) = self.wrap_imported(&record, material) else {
            return Err(self.failed_import(&key_id).await);
        };
        let write = MaterialWrite::Import {
            wrapped: &wrapped,
            import: &import,
            issued_ms,
        };
        match self.write_material(&key_id, write, imported_state).await {
            Err(KmsError::Store(StoreError::MaterialMismatch)) => {
                Err(self.failed_import(&key_id).await)
            }
            Err(KmsError::Store(StoreError::TokenRevoked)) => Err(KmsError::InvalidImportToken),
            Err(e) => Err(e),
            Ok(()) => Ok(key_id),
        }
    }

    /// DeleteKeyMaterial: the key's material is deleted and its tokens revoked (in the same
    /// write, so an import in flight with an older token cannot commit after it); the key
    /// becomes PendingImport, unless it is pending deletion (then nothing else changes). The
    /// first material's fingerprint stays. Returns the real key id.
    pub async fn delete_key_material(&self, key: &KeyRef) -> Result<String, KmsError> {
        let key_id = self.resolve(key).await?;
        external(&self.existing_key(&key_id).await?)?;
        let write = MaterialWrite::Delete {
            now_ms: self.clock.now_millis() + 1,
        };
        self.write_material(&key_id, write, deleted_state).await?;
        Ok(key_id)
    }

    /// Reserves one unwrap attempt for a token issued at `issued_ms` (counted as a failure
    /// until the import succeeds): refused with `InvalidImportToken` when the token was revoked
    /// meanwhile or the key's failure limit is reached (which revokes its tokens), so at most
    /// [`UNWRAP_FAILURE_LIMIT`] unwraps can fail between two revocations, however many
    /// imports run at once.
    async fn reserve_unwrap(&self, key_id: &str, issued_ms: i64) -> Result<(), KmsError> {
        let now_ms = self.clock.now_millis() + 1;
        let reserved = self
            .store
            .reserve_unwrap(key_id, issued_ms, UNWRAP_FAILURE_LIMIT, now_ms)
            .await
            .map_err(not_found)?;
        match reserved {
            true => Ok(()),
            false => Err(KmsError::InvalidImportToken),
        }
    }

    /// Ends a failed import against `key_id` (its attempt is already counted; at the limit
    /// its tokens are revoked) and answers the one error every failed import gives. If the
    /// store fails to settle it, the answer is the store's retryable unavailability (503), never
    /// an undetailed InvalidKeyMaterial whose revocation may not have happened, nor a 500.
    async fn failed_import(&self, key_id: &str) -> KmsError {
        let now_ms = self.clock.now_millis() + 1;
        match self
            .store
            .settle_failed_unwrap(key_id, UNWRAP_FAILURE_LIMIT, now_ms)
            .await
        {
            Ok(_revoked) => KmsError::InvalidKeyMaterial,
            Err(StoreError::Unreachable(why)) => KmsError::Store(StoreError::Unreachable(why)),
            Err(other) => KmsError::Store(StoreError::Unreachable(other.to_string())),
        }
    }

    /// `material` wrapped for the key's single version by the key's provider.
    fn wrap_imported(
        &self,
        record: &KeyRecord,
        material: SecretBytes,
    ) -> Result<Vec<u8>, KmsError> {
        let provider = self.provider_for(record.protection_level)?;
        let bind = KeyBinding::version(&record.key_id, &record.primary_version);
        let stored = provider
            .import(record.spec, material, &bind)
            .map_err(|_| KmsError::InvalidKeyMaterial)?;
        Ok(stored.into_bytes())
    }

    /// Writes (or deletes) the key's material, the key's state moved by `next_state` (given
    /// whether the key was Disabled when its material was last deleted), retrying over
    /// concurrent changes of the key (each attempt reads the key and its import state again,
    /// and the store checks the import state inside its transaction; a deletion bumps the
    /// key's revision, so the flag read cannot be stale when the write lands); then refreshes
    /// the cache. A deletion records whether the key was Disabled (an Enabled or Disabled
    /// key; otherwise the flag stays). The
    /// store's refusals (`MaterialMismatch`, `TokenRevoked`) come back as they are.
    async fn write_material(
        &self,
        key_id: &str,
        write: MaterialWrite<'_>,
        next_state: fn(KeyState, bool) -> Result<KeyState, KmsError>,
    ) -> Result<(), KmsError> {
        for _ in 0..MAX_CONFLICT_RETRIES {
            let current = self.existing_key(key_id).await?;
            let stored = self.import_state(key_id).await?;
            let disabled = match current.state {
                KeyState::Enabled => false,
                KeyState::Disabled => true,
                _ => stored.disabled_before_delete,
            };
            let next = KeyRecord {
                state: next_state(current.state, stored.disabled_before_delete)?,
                revision: current.revision + 1,
                ..current
            };
            let written = match write {
                MaterialWrite::Import {
                    wrapped,
                    import,
                    issued_ms,
                } => {
                    self.store
                        .save_material(&next, wrapped, import, issued_ms)
                        .await
                }
                MaterialWrite::Delete { now_ms } => {
                    self.store.delete_material(&next, now_ms, disabled).await
                }
            };
            match written {
                Ok(()) => {
                    let cached = self.cached_key(next).await?;
                    self.cache.changed_key(Arc::new(cached));
                    return Ok(());
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(not_found(e)),
            }
        }
        Err(KmsError::Contended)
    }

    /// A key's import state (the fresh one if none was stored).
    async fn import_state(&self, key_id: &str) -> Result<ImportRecord, KmsError> {
        Ok(self
            .store
            .get_import(key_id)
            .await?
            .unwrap_or_else(|| ImportRecord::fresh(key_id)))
    }

    /// A key's stored record, `KeyNotFound` if there is none.
    async fn existing_key(&self, key_id: &str) -> Result<KeyRecord, KmsError> {
        self.store
            .get_key(key_id)
            .await?
            .ok_or(KmsError::KeyNotFound)
    }
}

/// A write of a key's material.
#[derive(Clone, Copy)]
enum MaterialWrite<'a> {
    /// Imported material: wrapped for the key's version, with its import state and the
    /// issue time of the token it came with.
    Import {
        wrapped: &'a [u8],
        import: &'a ImportRecord,
        issued_ms: i64,
    },
    /// The material deleted and the tokens revoked at `now_ms`.
    Delete { now_ms: i64 },
}

/// The key accepts import actions only if it is EXTERNAL (`Unsupported.Origin`).
fn external(record: &KeyRecord) -> Result<(), KmsError> {
    match record.origin {
        Origin::External => Ok(()),
        Origin::AliyunKms => Err(KmsError::UnsupportedOrigin),
    }
}

/// After an import: PendingImport becomes Enabled, or Disabled if the key was Disabled when
/// its material was deleted (`disabled_before_delete`: DeleteKeyMaterial plus an import never
/// re-enables a key); Enabled and Disabled stay; a key that went pending deletion meanwhile
/// refuses it.
fn imported_state(state: KeyState, disabled_before_delete: bool) -> Result<KeyState, KmsError> {
    match state {
        KeyState::PendingImport if disabled_before_delete => Ok(KeyState::Disabled),
        KeyState::PendingImport => Ok(KeyState::Enabled),
        KeyState::PendingDeletion => Err(KmsError::StateModifiedFailed),
        other => Ok(other),
    }
}

/// After a deletion: PendingImport, unless pending deletion (which stays).
fn deleted_state(state: KeyState, _disabled_before_delete: bool) -> Result<KeyState, KmsError> {
    match state {
        KeyState::PendingDeletion => Ok(KeyState::PendingDeletion),
        _ => Ok(KeyState::PendingImport),
    }
}

/// A key that vanished under a write is not found.
fn not_found(error: StoreError) -> KmsError {
    match error {
        StoreError::NotFound | StoreError::ReferenceNotFound => KmsError::KeyNotFound,
        other => other.into(),
    }
}
