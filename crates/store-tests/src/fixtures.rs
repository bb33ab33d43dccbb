//! Sample records for the conformance checks.
//!
//! Every builder is deterministic in its number `n`, so a check can rebuild the record it
//! expects to read back. The records exercise what a backend might get wrong: every `Option`
//! set and unset, both specs, every state, non-ASCII and quoting in text, large integers and
//! every byte value in blobs. Users, custom policies and attachments come with names whose
//! byte order differs from a locale's, for the list orderings. This module does not touch a
//! store.

use openkms_core::{
    AccessKeyRecord, AliasRecord, AttachmentRecord, KeyRecord, KeySpec, KeyState, KeyUsage, Origin,
    PolicyRecord, PolicyType, ProtectionLevel, Tag, UserRecord, VersionRecord,
};

/// A key with its first version and tags, as `create_key` takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The key record.
    pub key: KeyRecord,
    /// Its first (primary) version.
    pub version: VersionRecord,
    /// Its tags, deliberately not sorted by tag key.
    pub tags: Vec<Tag>,
}

/// The key id of sample number `n` (a lowercase UUID).
pub fn key_id(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-000000000001")
}

/// The version id of sample number `n` (a lowercase UUID, distinct from every key id).
pub fn version_id(n: u32) -> String {
    format!("{n:08x}-0000-4000-9000-000000000002")
}

/// 60 bytes of "wrapped material" that differ per `n` and include `0x00` and `0xff`.
pub fn blob(n: u32) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0u32..58).map(|i| ((i * 37 + n) % 256) as u8).collect();
    bytes.extend_from_slice(&[0x00, 0xff]);
    bytes
}

/// A key with every optional field set, SM4, pending deletion, and three tags.
pub fn full_key(n: u32) -> NewKey {
    let key = KeyRecord {
        key_id: key_id(n),
        description: format!("key {n}: \u{e9}t\u{e9} \u{5bc6}\u{94a5} 'single' \"double\" \\ %_\n"),
        spec: KeySpec::AliyunSm4,
        usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AliyunKms,
        protection_level: ProtectionLevel::Software,
        state: KeyState::PendingDeletion,
        creator: "1234567890123456".to_owned(),
        created_at: 1_700_000_000 + i64::from(n),
        delete_at: Some(4_102_444_800),
        primary_version: version_id(n),
        last_rotation_at: 1_700_000_500,
        rotation_interval: Some(i64::from(u32::MAX) * 8),
        next_rotation_at: Some(i64::MAX),
        deletion_protection: Some("do not delete: \u{1f512}".to_owned()),
        policy: Some(r#"{"Version":"1","Statement":[{"Effect":"Allow"}]}"#.to_owned()),
        revision: 1,
    };
    let tags = vec![
        tag("zeta", "last"),
        tag("Alpha", ""),
        tag("mid", "\u{4e2d}"),
    ];
    NewKey {
        version: version_for(&key, n),
        key,
        tags,
    }
}

/// A key with every optional field unset, AES-256, enabled, and no tags.
pub fn minimal_key(n: u32) -> NewKey {
    let key = KeyRecord {
        key_id: key_id(n),
        description: String::new(),
        spec: KeySpec::AliyunAes256,
        usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AliyunKms,
        protection_level: ProtectionLevel::Software,
        state: KeyState::Enabled,
        creator: "root".to_owned(),
        created_at: 0,
        delete_at: None,
        primary_version: version_id(n),
        last_rotation_at: -1,
        rotation_interval: None,
        next_rotation_at: None,
        deletion_protection: None,
        policy: None,
        revision: 1,
    };
    NewKey {
        version: version_for(&key, n),
        key,
        tags: Vec::new(),
    }
}

/// A disabled key with one tag, for bulk checks.
pub fn disabled_key(n: u32) -> NewKey {
    let mut new = minimal_key(n);
    new.key.state = KeyState::Disabled;
    new.key.description = format!("bulk key {n}");
    new.tags = vec![tag("n", &n.to_string())];
    new
}

/// The first version of `key`.
fn version_for(key: &KeyRecord, n: u32) -> VersionRecord {
    VersionRecord {
        version_id: key.primary_version.clone(),
        key_id: key.key_id.clone(),
        created_at: key.created_at,
        wrapped_material: blob(n),
    }
}

/// The id of extra version `i` of sample key `n` (distinct from every [`version_id`]).
pub fn extra_version_id(n: u32, i: u32) -> String {
    format!("{n:08x}-{i:04x}-4000-9000-000000000003")
}

/// Extra version `i` of sample key `n`, made at `created_at`, with its own material.
pub fn extra_version(n: u32, i: u32, created_at: i64) -> VersionRecord {
    VersionRecord {
        version_id: extra_version_id(n, i),
        key_id: key_id(n),
        created_at,
        wrapped_material: blob(n * 1000 + i),
    }
}

/// `key` as the next write of it: the same fields, one revision on.
pub fn next_revision(key: &KeyRecord) -> KeyRecord {
    KeyRecord {
        revision: key.revision + 1,
        ..key.clone()
    }
}

/// `key` after rotating to `version`: the new primary, its rotation dates, one revision on.
pub fn rotated(key: &KeyRecord, version: &VersionRecord) -> KeyRecord {
    KeyRecord {
        primary_version: version.version_id.clone(),
        last_rotation_at: version.created_at,
        next_rotation_at: key.rotation_interval.map(|i| version.created_at + i),
        ..next_revision(key)
    }
}

/// The tag limit the key service passes to `put_tags`, so the checks pin the one that matters.
pub const MAX_TAGS: usize = openkms_core::service::MAX_TAGS;

/// Tag `i` of a numbered series (`t00`, `t01`, ...), whose keys sort in the order of `i`.
pub fn numbered_tag(i: usize, value: &str) -> Tag {
    tag(&format!("t{i:02}"), value)
}

/// A tag.
pub fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

/// The tags of `new`, sorted by tag key as `list_tags` returns them.
pub fn sorted_tags(new: &NewKey) -> Vec<Tag> {
    let mut tags = new.tags.clone();
    tags.sort_by(|a, b| a.key.cmp(&b.key));
    tags
}

/// An alias record.
pub fn alias(name: &str, key_id: &str) -> AliasRecord {
    AliasRecord {
        name: name.to_owned(),
        key_id: key_id.to_owned(),
        created_at: 1_700_000_123,
    }
}

/// An AccessKey record; `n` picks the id, the user and the wrapped secret.
pub fn access_key(n: u32, active: bool) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: format!("LTAI{n:020}"),
        user: if n == 0 {
            "root".to_owned()
        } else {
            format!("user-{n}")
        },
        wrapped_secret: blob(n + 1000),
        active,
        created_at: 1_700_000_000 - i64::from(n),
    }
}

/// An AccessKey of `user`, made at `created_at`; `n` picks the id and the wrapped secret.
pub fn owned_access_key(n: u32, user: &str, created_at: i64) -> AccessKeyRecord {
    AccessKeyRecord {
        user: user.to_owned(),
        created_at,
        ..access_key(n, true)
    }
}

/// The AccessKey limit the key service passes to `create_user_access_key`, so the checks pin
/// the one that matters.
pub const MAX_ACCESS_KEYS: usize = openkms_core::service::MAX_ACCESS_KEYS_PER_USER;

/// The name of sample user `n` (the owner of [`access_key`] `n` for `n > 0`).
pub fn user_name(n: u32) -> String {
    format!("user-{n}")
}

/// A user with every text field set (non-ASCII, quotes, a newline, `LIKE` wildcards); `n`
/// picks the name, the id and the creation time.
pub fn user(n: u32) -> UserRecord {
    UserRecord {
        user_name: user_name(n),
        user_id: format!("{:016}", 2_000_000_000_000_000 + u64::from(n)),
        display_name: format!("\u{5f20}\u{4e09} {n} 'single' \"double\""),
        mobile_phone: "86-18600008888".to_owned(),
        email: format!("user.{n}@example.com"),
        comments: "line one\nline two \\ %_ \u{1f464}".to_owned(),
        created_at: 1_700_000_000 + i64::from(n),
    }
}

/// A user named `name` with every text field empty, made at time 0.
pub fn named_user(name: &str) -> UserRecord {
    UserRecord {
        user_name: name.to_owned(),
        user_id: "0000000000000000".to_owned(),
        display_name: String::new(),
        mobile_phone: String::new(),
        email: String::new(),
        comments: String::new(),
        created_at: 0,
    }
}

/// The name of sample custom policy `n`.
pub fn policy_name(n: u32) -> String {
    format!("Policy-{n}")
}

/// A custom policy with a non-ASCII description and a JSON document; `n` picks the name and
/// the creation time.
pub fn policy(n: u32) -> PolicyRecord {
    PolicyRecord {
        policy_name: policy_name(n),
        description: format!("policy {n}: \u{5bc6}\u{94a5} 'single' \"double\" \\ %_\n"),
        document: format!(
            r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":["kms:Encrypt"],"Resource":["acs:kms:*:*:key/{n}"]}}]}}"#
        ),
        created_at: 1_700_000_000 - i64::from(n),
    }
}

/// A custom policy named `name` with an empty description and a minimal document, made at
/// time 0.
pub fn named_policy(name: &str) -> PolicyRecord {
    PolicyRecord {
        policy_name: name.to_owned(),
        description: String::new(),
        document: r#"{"Version":"1","Statement":[]}"#.to_owned(),
        created_at: 0,
    }
}

/// The name of a system policy (built in: stored nowhere but in attachments).
pub const SYSTEM_POLICY: &str = "AliyunKMSFullAccess";

/// An attachment of policy `policy_name` of `policy_type` to `user_name` at `attached_at`.
pub fn attachment(
    user_name: &str,
    policy_type: PolicyType,
    policy_name: &str,
    attached_at: i64,
) -> AttachmentRecord {
    AttachmentRecord {
        user_name: user_name.to_owned(),
        policy_type,
        policy_name: policy_name.to_owned(),
        attached_at,
    }
}
