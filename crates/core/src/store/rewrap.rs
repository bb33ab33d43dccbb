//! [`RewrapStore`]: every secret the store keeps wrapped under the root key, read at once and
//! replaced at once, for root-key rotation.
//!
//! Rotation reads every wrapped blob, re-wraps each under the new root key, and hands the
//! whole set back to be written in **one transaction**, each row only if it still holds the
//! bytes that were read. So a rotation killed at any moment leaves either every blob under the
//! old root key or every blob under the new one, never a mix that neither key opens. Metadata
//! values (the check value, the cursor key) are read through [`crate::MetaStore`] and
//! replaced here with the rest.

use async_trait::async_trait;

use super::{MetaStore, StoreError};

/// A blob the store keeps wrapped under the root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedBlob {
    /// Which row holds it.
    pub row: WrappedRow,
    /// The wrapped bytes, as stored.
    pub bytes: Vec<u8>,
}

/// The row of a wrapped blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrappedRow {
    /// A key version's material.
    Version {
        /// The owning key.
        key_id: String,
        /// The version.
        version_id: String,
        /// Whether the key is a software key (`ProtectionLevel=SOFTWARE`): only its material is
        /// wrapped under the root key; another level's stored bytes are the provider's own.
        software: bool,
    },
    /// An AccessKey's secret.
    AccessKey {
        /// The AccessKeyId.
        access_key_id: String,
    },
    /// A metadata value.
    Meta {
        /// The metadata name.
        name: String,
    },
}

/// A replacement: the row, the bytes it must still hold, and the bytes to put there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrap {
    /// Which row.
    pub row: WrappedRow,
    /// What it held when read.
    pub old: Vec<u8>,
    /// What it holds after the write.
    pub new: Vec<u8>,
}

/// The wrapped blobs of a store, for root-key rotation.
#[async_trait]
pub trait RewrapStore: Send + Sync + 'static {
    /// Every key version's material and every AccessKey's secret (not metadata values), read
    /// in one consistent snapshot.
    async fn wrapped_blobs(&self) -> Result<Vec<WrappedBlob>, StoreError>;

    /// Writes every replacement in one transaction, durable on `Ok`. If any row is missing or
    /// no longer holds its `old` bytes, nothing is written and the answer is
    /// [`StoreError::Conflict`].
    async fn replace_wrapped(&self, changes: &[Rewrap]) -> Result<(), StoreError>;
}

/// What root-key rotation needs of a store: its wrapped blobs and its metadata values.
/// Implemented for every type that has both.
pub trait RotationStore: MetaStore + RewrapStore {}

impl<T> RotationStore for T where T: MetaStore + RewrapStore {}
