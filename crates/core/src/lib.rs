//! openkms-core: the domain of a key management service, with no I/O.
//!
//! This crate owns keys, key versions and their states, aliases, access keys, the ciphertext
//! format, the AEAD constructions, root-key wrapping and the use cases ([`KeyService`]). It
//! defines the storage capability traits ([`Store`] and its parts, [`ReplayStore`]) that
//! storage backends implement, and the [`Clock`] and
//! [`SecureRandom`] traits through which time and randomness come in.
//!
//! It does not own: sockets, files, HTTP, query strings, JSON response shapes or any wire
//! format of the Alibaba API. Those belong to the `api` crate and the binary.
#![deny(missing_docs)]

pub mod asymmetric;
pub mod byok;
pub mod ciphertext;
pub mod clock;
pub mod context;
pub mod crypto;
pub mod error;
pub mod model;
#[cfg(test)]
mod openssl_test;
pub mod policy;
pub mod provider;
pub mod random;
pub mod rootkey;
pub mod rotation;
pub mod secret;
pub mod service;
pub mod shamir;
pub mod store;
pub mod token_pair;
pub mod unseal;

pub use clock::{Clock, ManualClock, SystemClock};
pub use context::EncryptionContext;
pub use error::{Field, InvalidReason, KmsError, SecretError, SecretField};
pub use model::{
    AccessKeyRecord, AliasRecord, AttachmentRecord, ImportRecord, KeyRecord, KeySpec, KeyState,
    KeyUsage, Origin, PolicyRecord, PolicyType, ProtectionLevel, Tag, UserRecord, VersionRecord,
};
pub use provider::{
    KeyBinding, KeyProvider, LoadedKey, PrivateKey, SoftwareProvider, StoredKey, SymmetricKey,
};
pub use random::{OsRandom, SecureRandom};
pub use rootkey::{CursorKey, RootKey, RootSeal};
pub use secret::SecretBytes;
pub use service::{KeyRef, KeyService, PasswordCheck, Quotas, ServiceConfig};
pub use store::{
    AliasStore, AnchorStore, AuditAnchor, IdentityStore, ImportStore, KeyCursor, KeySelection,
    KeyStore, KeyTag, LoginProfileRecord, LoginStore, MetaStore, ReplayStore, Rewrap, RewrapStore,
    RotationStore, SecretChange, SecretDataType, SecretRecord, SecretStage, SecretStore, SecretTag,
    SecretVersion, Snapshot, SnapshotStore, Store, StoreError, StoredSecretVersion, TagCursor,
    TagStore, WrappedBlob, WrappedRow,
};
