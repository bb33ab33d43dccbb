//! How a stored row becomes a record: one column-to-field mapping per record, shared by every
//! SQL backend.
//!
//! A backend implements [`RecordRow`] for its row type (a handful of typed column reads) and
//! selects the columns in the order each function here documents; the function builds the
//! record. A value of the wrong type, an enum name this build does not know, or a flag other
//! than true/false makes the row [`StoreError::Corrupt`], naming the column, never the value
//! (which might be wrapped material). This module does not know SQL or any driver.

use super::snapshot::{DestroyedVersion, MetaEntry};
use super::{
    KeyTag, SecretDataType, SecretRecord, SecretStage, SecretTag, SecretVersion, StoreError,
    StoredSecretVersion,
};
use crate::model::{
    AccessKeyRecord, AliasRecord, AttachmentRecord, KeyRecord, KeySpec, KeyState, KeyUsage, Origin,
    PolicyRecord, PolicyType, ProtectionLevel, Tag, UserRecord, VersionRecord,
};

/// Typed reads of one row's columns by position. `column` (`table.column`) only names the
/// column in the error when the value cannot be read as asked.
pub trait RecordRow {
    /// A text column.
    fn text(&self, index: usize, column: &'static str) -> Result<String, StoreError>;
    /// A nullable text column.
    fn opt_text(&self, index: usize, column: &'static str) -> Result<Option<String>, StoreError>;
    /// A 64-bit integer column.
    fn int(&self, index: usize, column: &'static str) -> Result<i64, StoreError>;
    /// A nullable 64-bit integer column.
    fn opt_int(&self, index: usize, column: &'static str) -> Result<Option<i64>, StoreError>;
    /// A binary column.
    fn bytes(&self, index: usize, column: &'static str) -> Result<Vec<u8>, StoreError>;
    /// A nullable binary column.
    fn opt_bytes(&self, index: usize, column: &'static str) -> Result<Option<Vec<u8>>, StoreError>;
    /// A boolean column, however the backend stores it (anything else is `Corrupt`).
    fn flag(&self, index: usize, column: &'static str) -> Result<bool, StoreError>;
}

/// The error for a stored value that cannot be read back as a record field: names the
/// column, never the value.
pub fn corrupt(column: &'static str) -> StoreError {
    StoreError::Corrupt(format!("unreadable value in {column}"))
}

/// Reads an enum column through its `parse` (the stored name).
fn named<T>(
    row: &impl RecordRow,
    index: usize,
    column: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(&row.text(index, column)?).ok_or_else(|| corrupt(column))
}

/// A key from `key_id, description, spec, usage, origin, protection_level, state, creator,
/// created_at, delete_at, primary_version, last_rotation_at, rotation_interval,
/// next_rotation_at, deletion_protection, policy, revision`.
pub fn key(row: &impl RecordRow) -> Result<KeyRecord, StoreError> {
    Ok(KeyRecord {
        key_id: row.text(0, "keys.key_id")?,
        description: row.text(1, "keys.description")?,
        spec: named(row, 2, "keys.spec", KeySpec::parse)?,
        usage: named(row, 3, "keys.usage", KeyUsage::parse)?,
        origin: named(row, 4, "keys.origin", Origin::parse)?,
        protection_level: named(row, 5, "keys.protection_level", ProtectionLevel::parse)?,
        state: named(row, 6, "keys.state", KeyState::parse)?,
        creator: row.text(7, "keys.creator")?,
        created_at: row.int(8, "keys.created_at")?,
        delete_at: row.opt_int(9, "keys.delete_at")?,
        primary_version: row.text(10, "keys.primary_version")?,
        last_rotation_at: row.int(11, "keys.last_rotation_at")?,
        rotation_interval: row.opt_int(12, "keys.rotation_interval")?,
        next_rotation_at: row.opt_int(13, "keys.next_rotation_at")?,
        deletion_protection: row.opt_text(14, "keys.deletion_protection")?,
        policy: row.opt_text(15, "keys.policy")?,
        revision: row.int(16, "keys.revision")?,
    })
}

/// A version from `version_id, key_id, created_at, wrapped_material`.
pub fn version(row: &impl RecordRow) -> Result<VersionRecord, StoreError> {
    Ok(VersionRecord {
        version_id: row.text(0, "key_versions.version_id")?,
        key_id: row.text(1, "key_versions.key_id")?,
        created_at: row.int(2, "key_versions.created_at")?,
        wrapped_material: row.bytes(3, "key_versions.wrapped_material")?,
    })
}

/// A tag from `tag_key, tag_value`.
pub fn tag(row: &impl RecordRow) -> Result<Tag, StoreError> {
    Ok(Tag {
        key: row.text(0, "key_tags.tag_key")?,
        value: row.text(1, "key_tags.tag_value")?,
    })
}

/// An alias from `name, key_id, created_at`.
pub fn alias(row: &impl RecordRow) -> Result<AliasRecord, StoreError> {
    Ok(AliasRecord {
        name: row.text(0, "aliases.name")?,
        key_id: row.text(1, "aliases.key_id")?,
        created_at: row.int(2, "aliases.created_at")?,
    })
}

/// An AccessKey from `access_key_id, user, wrapped_secret, active, created_at`.
pub fn access_key(row: &impl RecordRow) -> Result<AccessKeyRecord, StoreError> {
    Ok(AccessKeyRecord {
        access_key_id: row.text(0, "access_keys.access_key_id")?,
        user: row.text(1, "access_keys.user")?,
        wrapped_secret: row.bytes(2, "access_keys.wrapped_secret")?,
        active: row.flag(3, "access_keys.active")?,
        created_at: row.int(4, "access_keys.created_at")?,
    })
}

/// A user from `user_name, user_id, display_name, mobile_phone, email, comments, created_at`.
pub fn user(row: &impl RecordRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        user_name: row.text(0, "users.user_name")?,
        user_id: row.text(1, "users.user_id")?,
        display_name: row.text(2, "users.display_name")?,
        mobile_phone: row.text(3, "users.mobile_phone")?,
        email: row.text(4, "users.email")?,
        comments: row.text(5, "users.comments")?,
        created_at: row.int(6, "users.created_at")?,
    })
}

/// A custom policy from `policy_name, description, document, created_at`.
pub fn policy(row: &impl RecordRow) -> Result<PolicyRecord, StoreError> {
    Ok(PolicyRecord {
        policy_name: row.text(0, "policies.policy_name")?,
        description: row.text(1, "policies.description")?,
        document: row.text(2, "policies.document")?,
        created_at: row.int(3, "policies.created_at")?,
    })
}

/// An attachment from `user_name, policy_type, policy_name, attached_at`.
pub fn attachment(row: &impl RecordRow) -> Result<AttachmentRecord, StoreError> {
    Ok(AttachmentRecord {
        user_name: row.text(0, "policy_attachments.user_name")?,
        policy_type: named(row, 1, "policy_attachments.policy_type", PolicyType::parse)?,
        policy_name: row.text(2, "policy_attachments.policy_name")?,
        attached_at: row.int(3, "policy_attachments.attached_at")?,
    })
}

/// A tag with its key from `key_id, tag_key, tag_value` (the tag listing's and a snapshot's
/// form).
pub fn key_tag(row: &impl RecordRow) -> Result<KeyTag, StoreError> {
    Ok(KeyTag {
        key_id: row.text(0, "key_tags.key_id")?,
        tag: Tag {
            key: row.text(1, "key_tags.tag_key")?,
            value: row.text(2, "key_tags.tag_value")?,
        },
    })
}

/// A destroyed version's tombstone from `version_id, key_id, destroyed_at`.
pub fn destroyed(row: &impl RecordRow) -> Result<DestroyedVersion, StoreError> {
    Ok(DestroyedVersion {
        version_id: row.text(0, "destroyed_versions.version_id")?,
        key_id: row.text(1, "destroyed_versions.key_id")?,
        destroyed_at: row.int(2, "destroyed_versions.destroyed_at")?,
    })
}

/// A metadata value from `name, value`.
pub fn meta(row: &impl RecordRow) -> Result<MetaEntry, StoreError> {
    Ok(MetaEntry {
        name: row.text(0, "meta.name")?,
        value: row.bytes(1, "meta.value")?,
    })
}

/// A secret from `name, secret_type, description, encryption_key_id, created_at, updated_at,
/// planned_delete_at, policy, revision`.
pub fn secret(row: &impl RecordRow) -> Result<SecretRecord, StoreError> {
    Ok(SecretRecord {
        name: row.text(0, "secrets.name")?,
        secret_type: row.text(1, "secrets.secret_type")?,
        description: row.text(2, "secrets.description")?,
        encryption_key_id: row.opt_text(3, "secrets.encryption_key_id")?,
        created_at: row.int(4, "secrets.created_at")?,
        updated_at: row.int(5, "secrets.updated_at")?,
        planned_delete_at: row.opt_int(6, "secrets.planned_delete_at")?,
        policy: row.opt_text(7, "secrets.policy")?,
        revision: row.int(8, "secrets.revision")?,
    })
}

/// A secret version from `secret_name, version_id, created_at, data_type`.
pub fn secret_version(row: &impl RecordRow) -> Result<SecretVersion, StoreError> {
    Ok(SecretVersion {
        secret_name: row.text(0, "secret_versions.secret_name")?,
        version_id: row.text(1, "secret_versions.version_id")?,
        created_at: row.int(2, "secret_versions.created_at")?,
        data_type: named(row, 3, "secret_versions.data_type", SecretDataType::parse)?,
    })
}

/// A secret version with its ciphertext from `secret_name, version_id, created_at, data_type,
/// ciphertext` (a snapshot's form).
pub fn stored_secret_version(row: &impl RecordRow) -> Result<StoredSecretVersion, StoreError> {
    Ok(StoredSecretVersion {
        version: secret_version(row)?,
        ciphertext: row.bytes(4, "secret_versions.ciphertext")?,
    })
}

/// A stage label from `secret_name, stage, version_id`.
pub fn secret_stage(row: &impl RecordRow) -> Result<SecretStage, StoreError> {
    Ok(SecretStage {
        secret_name: row.text(0, "secret_stages.secret_name")?,
        stage: row.text(1, "secret_stages.stage")?,
        version_id: row.text(2, "secret_stages.version_id")?,
    })
}

/// A secret's tag from `secret_name, tag_key, tag_value`.
pub fn secret_tag(row: &impl RecordRow) -> Result<SecretTag, StoreError> {
    Ok(SecretTag {
        secret_name: row.text(0, "secret_tags.secret_name")?,
        tag: Tag {
            key: row.text(1, "secret_tags.tag_key")?,
            value: row.text(2, "secret_tags.tag_value")?,
        },
    })
}

/// A login profile from `user_name, password_hash, password_reset_required,
/// mfa_bind_required, created_at, updated_at`.
pub fn login_profile(row: &impl RecordRow) -> Result<super::LoginProfileRecord, StoreError> {
    Ok(super::LoginProfileRecord {
        user_name: row.text(0, "login_profiles.user_name")?,
        password_hash: row.text(1, "login_profiles.password_hash")?,
        password_reset_required: row.flag(2, "login_profiles.password_reset_required")?,
        mfa_bind_required: row.flag(3, "login_profiles.mfa_bind_required")?,
        created_at: row.int(4, "login_profiles.created_at")?,
        updated_at: row.int(5, "login_profiles.updated_at")?,
    })
}

/// An import state from `key_id, fingerprint, material_expire_at, tokens_not_before,
/// failed_unwraps, disabled_before_delete` (`fingerprint` nullable).
pub fn import(row: &impl RecordRow) -> Result<crate::model::ImportRecord, StoreError> {
    Ok(crate::model::ImportRecord {
        key_id: row.text(0, "key_imports.key_id")?,
        fingerprint: row.opt_bytes(1, "key_imports.fingerprint")?,
        material_expire_at: row.opt_int(2, "key_imports.material_expire_at")?,
        tokens_not_before: row.int(3, "key_imports.tokens_not_before")?,
        failed_unwraps: row.int(4, "key_imports.failed_unwraps")?,
        disabled_before_delete: row.flag(5, "key_imports.disabled_before_delete")?,
    })
}
