//! Root-key rotation: every secret wrapped under the old root key re-wrapped under a new one,
//! written in one store transaction.
//!
//! [`rotate_root_key`] reads the check value, every software key version's material, every
//! AccessKey's secret and the cursor key; opens each under the old custody; wraps it under the
//! new one (same record binding); and hands the whole set to
//! [`RewrapStore::replace_wrapped`], which writes it atomically, each row only if it still
//! holds what was read. Killed at any moment, the store is therefore opened completely by
//! exactly one of the two root keys; run again, it finds the old key's check value and does
//! the work, or the new key's and reports that there is nothing left to do.
//!
//! Material of other protection levels (HSM keys) is not wrapped under the root key and is not
//! touched. Which keys to use, where the new one comes from and whether servers are running is
//! the binary's business; this module does no I/O of its own beyond the store.

use crate::error::KmsError;
use crate::provider::KeyBinding;
use crate::provider::software::{WRAP_LABEL_VERSION, wrap_id};
use crate::random::SecureRandom;
use crate::rootkey::{CURSOR_KEY_LABEL, RootSeal, check_value, verify_check};
use crate::service::access::WRAP_LABEL_AK;
use crate::service::{META_CURSOR_KEY, META_ROOT_CHECK};
use crate::store::{Rewrap, RotationStore, StoreError, WrappedBlob, WrappedRow};

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RotationReport {
    /// Whether the store was already under the new root key (nothing was written).
    pub already_rotated: bool,
    /// Software key versions re-wrapped.
    pub versions: usize,
    /// Key versions of other protection levels, or without material (EXTERNAL keys before an
    /// import), left as they were.
    pub other_versions: usize,
    /// AccessKey secrets re-wrapped.
    pub access_keys: usize,
}

/// Why a rotation did not happen; in every case nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// The store has no check value: it was never opened by a server.
    #[error("the store holds no root key check value (has a server ever started on it?)")]
    Uninitialised,
    /// Neither key opens the store's check value.
    #[error("the current root key does not match the store")]
    WrongRootKey,
    /// The new root key is the old one.
    #[error("the new root key is the current one")]
    SameKey,
    /// A wrapped secret does not open under the old root key.
    #[error("a stored secret ({0}) does not open under the current root key; nothing was changed")]
    Corrupt(String),
    /// A custody could not wrap.
    #[error("root key custody: {0}")]
    Custody(KmsError),
    /// The store failed, or changed while the rotation read it (servers still running?).
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Re-wraps everything under `new`, in one transaction (see the module docs).
pub async fn rotate_root_key(
    store: &dyn RotationStore,
    old: &dyn RootSeal,
    new: &dyn RootSeal,
    rng: &dyn SecureRandom,
) -> Result<RotationReport, RotationError> {
    rotate_root_key_with(store, old, new, rng, Vec::new()).await
}

/// [`rotate_root_key`], also writing `also` in the same transaction: what the custody keeps in
/// the store about the root key (the Shamir seal's record of the new split), so that it
/// changes together with the key.
pub async fn rotate_root_key_with(
    store: &dyn RotationStore,
    old: &dyn RootSeal,
    new: &dyn RootSeal,
    rng: &dyn SecureRandom,
    also: Vec<Rewrap>,
) -> Result<RotationReport, RotationError> {
    let check = store
        .get_meta(META_ROOT_CHECK)
        .await?
        .ok_or(RotationError::Uninitialised)?;
    let (opens_old, opens_new) = (verify_check(old, &check), verify_check(new, &check));
    match (opens_old, opens_new) {
        (true, true) => return Err(RotationError::SameKey),
        (false, true) => {
            return Ok(RotationReport {
                already_rotated: true,
                ..RotationReport::default()
            });
        }
        (false, false) => return Err(RotationError::WrongRootKey),
        (true, false) => {}
    }
    let mut report = RotationReport::default();
    let mut changes = also;
    for blob in store.wrapped_blobs().await? {
        if let Some(change) = rewrap_blob(blob, old, new, rng, &mut report)? {
            changes.push(change);
        }
    }
    if let Some(cursor) = store.get_meta(META_CURSOR_KEY).await? {
        let row = WrappedRow::Meta {
            name: META_CURSOR_KEY.to_owned(),
        };
        changes.push(rewrap(row, CURSOR_KEY_LABEL, "", cursor, old, new, rng)?);
    }
    let new_check = check_value(new, rng).map_err(RotationError::Custody)?;
    changes.push(Rewrap {
        row: WrappedRow::Meta {
            name: META_ROOT_CHECK.to_owned(),
        },
        old: check,
        new: new_check,
    });
    store.replace_wrapped(&changes).await?;
    Ok(report)
}

/// The replacement of one blob, counted in `report`; `None` for a version that is not the
/// root key's to wrap.
fn rewrap_blob(
    blob: WrappedBlob,
    old: &dyn RootSeal,
    new: &dyn RootSeal,
    rng: &dyn SecureRandom,
    report: &mut RotationReport,
) -> Result<Option<Rewrap>, RotationError> {
    let (label, id) = match &blob.row {
        WrappedRow::Version {
            key_id,
            version_id,
            software,
        } => {
            // An EXTERNAL key's version without imported material holds nothing to rewrap.
            if !software || blob.bytes.is_empty() {
                report.other_versions += 1;
                return Ok(None);
            }
            report.versions += 1;
            let id = wrap_id(&KeyBinding::version(key_id, version_id));
            (WRAP_LABEL_VERSION, id)
        }
        WrappedRow::AccessKey { access_key_id } => {
            report.access_keys += 1;
            (WRAP_LABEL_AK, access_key_id.clone())
        }
        WrappedRow::Meta { name } => return Err(RotationError::Corrupt(format!("meta {name}"))),
    };
    rewrap(blob.row, label, &id, blob.bytes, old, new, rng).map(Some)
}

/// Opens `bytes` under `old` and wraps the secret under `new` for the same record.
fn rewrap(
    row: WrappedRow,
    label: &str,
    id: &str,
    bytes: Vec<u8>,
    old: &dyn RootSeal,
    new: &dyn RootSeal,
    rng: &dyn SecureRandom,
) -> Result<Rewrap, RotationError> {
    let secret = old
        .unwrap(label, id, &bytes)
        .map_err(|_| RotationError::Corrupt(describe(&row)))?;
    let wrapped = new
        .wrap(rng, label, id, secret.expose_secret())
        .map_err(RotationError::Custody)?;
    Ok(Rewrap {
        row,
        old: bytes,
        new: wrapped,
    })
}

/// Names a row in an error (ids only, never bytes).
fn describe(row: &WrappedRow) -> String {
    match row {
        WrappedRow::Version { version_id, .. } => format!("key version {version_id}"),
        WrappedRow::AccessKey { access_key_id } => format!("AccessKey {access_key_id}"),
        WrappedRow::Meta { name } => format!("metadata {name}"),
    }
}
