//! The storage contract: small capability traits, one error type.
//!
//! Storage is split by what it keeps, the way tikv's `engine_traits` compose `KvEngine`:
//! [`KeyStore`] (keys, versions, destruction), [`AliasStore`], [`TagStore`], [`IdentityStore`]
//! (RAM users, AccessKeys, custom policies, attachments), [`MetaStore`] (named metadata
//! values), [`LoginStore`] (RAM users' console passwords), [`SecretStore`] (the Secrets
//! Manager's secrets) and [`ImportStore`] (EXTERNAL keys' import state). [`Store`] is all eight together, with a blanket impl, and is what the key
//! service holds. Replay nonces are a separate concern of the front end: [`ReplayStore`] is not part
//! of [`Store`]; nor is [`AnchorStore`], where the binary records its audit log's head; nor
//! [`RewrapStore`], which only root-key rotation uses; nor [`SnapshotStore`], through which
//! backup and restore move a whole store's state. A new
//! capability is a new trait, not more methods on an old one.
//!
//! Every method that returns `Ok` for a write has made that write durable: callers
//! acknowledge to clients only after it returns. Backends live in their own crates and all run
//! the shared conformance suite (`openkms-store-tests`), one module per capability. How a
//! stored row becomes a record is written once, in [`records`]. Every listing has a paged
//! read beside it (a keyset page after a cursor, see [`KeyCursor`]), so a List action's cost per
//! page does not grow with what comes before the page. This module does not know SQL, files
//! or connections.

mod aliases;
mod anchor;
mod identity;
mod imports;
mod keys;
mod login;
mod meta;
mod paging;
pub mod records;
mod replay;
mod rewrap;
mod secrets;
mod snapshot;
mod tags;

pub use aliases::AliasStore;
pub use anchor::{AnchorStore, AuditAnchor};
pub use identity::IdentityStore;
pub use imports::ImportStore;
pub use keys::KeyStore;
pub use login::{LoginProfileRecord, LoginStore};
pub use meta::MetaStore;
pub use paging::{KeyCursor, KeySelection, KeyTag, TagCursor, tag_matches};
pub use records::RecordRow;
pub use replay::ReplayStore;
pub use rewrap::{Rewrap, RewrapStore, RotationStore, WrappedBlob, WrappedRow};
pub use secrets::{
    SecretChange, SecretDataType, SecretRecord, SecretStage, SecretStore, SecretTag, SecretVersion,
    StoredSecretVersion,
};
pub use snapshot::{
    DestroyedVersion, MetaEntry, OTHER_TABLES, RESTORED_META, SNAPSHOT_META,
    SNAPSHOT_META_PREFIXES, SNAPSHOT_TABLES, Snapshot, SnapshotStore, check_importable,
    is_exported_meta, is_importable_meta, is_snapshot_meta,
};
pub use tags::TagStore;

/// An error from a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name or id is taken (for example an alias name).
    #[error("already exists")]
    AlreadyExists,
    /// A record the write depends on does not exist (for example the key of a new alias).
    #[error("referenced record not found")]
    ReferenceNotFound,
    /// The record to update or delete does not exist.
    #[error("record not found")]
    NotFound,
    /// The record changed since it was read (its revision moved on); read again and retry.
    #[error("concurrent update")]
    Conflict,
    /// The write would take a record past a limit the caller gave (for example a key's tag
    /// count, or a user's AccessKeys); nothing was written.
    #[error("limit exceeded")]
    LimitExceeded,
    /// The backend cannot be reached or failed; the write may not have happened.
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// The backend cannot be reached for now (a database server down, restarting or refusing
    /// connections; a connection lost): the write may or may not have happened, and the same
    /// request may succeed once the backend is back. Clients are told to retry.
    #[error("backend unreachable: {0}")]
    Unreachable(String),
    /// Stored data could not be read back as a record.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The store already holds data, so a snapshot is not imported into it; nothing was
    /// written.
    #[error("the store is not empty")]
    NotEmpty,
    /// A snapshot to import holds a metadata name no export writes (an audit anchor, say);
    /// nothing was written.
    #[error("the snapshot holds a metadata name no backup holds")]
    NotSnapshotMeta,
    /// Imported material differs from the key's first material (its stored fingerprint);
    /// nothing was written.
    #[error("the material differs from the key's first material")]
    MaterialMismatch,
    /// The import token was issued before the key's tokens were revoked; nothing was written.
    #[error("the import token was revoked")]
    TokenRevoked,
}

/// Durable storage for the key service: every capability it uses, together.
///
/// Implemented for every type that implements the six capabilities; a backend implements
/// those and never this trait directly.
pub trait Store:
    KeyStore
    + AliasStore
    + TagStore
    + IdentityStore
    + MetaStore
    + LoginStore
    + SecretStore
    + ImportStore
{
}

impl<T> Store for T where
    T: KeyStore
        + AliasStore
        + TagStore
        + IdentityStore
        + MetaStore
        + LoginStore
        + SecretStore
        + ImportStore
{
}
