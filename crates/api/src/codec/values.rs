//! Reply values the codec files share: base64 written straight into the reply, the
//! sealed-data reply of the cryptographic actions, `KeyMetadata`, the alias and key-version
//! items, the empty reply, and the paged-listing shape with its paging parameters.

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use openkms_core::service::EncryptOutput;
use openkms_core::{AliasRecord, InvalidReason, KeyRecord, KeyService, VersionRecord};
use openkms_ops::{Page, Paged};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::rpc::{Params, RpcError, dates};

/// Bytes shown as standard base64, written into the reply without an intermediate string.
pub struct Base64<'a>(pub &'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&Base64Display::new(self.0, &STANDARD))
    }
}

/// The reply of Encrypt, ReEncrypt and GenerateDataKeyWithoutPlaintext.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Sealed<'a> {
    /// The key that sealed it (the real id).
    pub key_id: &'a str,
    /// The version that sealed it.
    pub key_version_id: &'a str,
    /// The ciphertext.
    pub ciphertext_blob: Base64<'a>,
}

impl<'a> Sealed<'a> {
    /// The reply of Encrypt and ReEncrypt.
    pub fn of(out: &'a EncryptOutput) -> Self {
        Self {
            key_id: &out.key_id,
            key_version_id: &out.version_id,
            ciphertext_blob: Base64(&out.blob),
        }
    }
}

/// The reply of an action that answers only its `RequestId` (added by the renderer).
#[derive(Serialize)]
pub struct Empty {}

/// A key's `KeyMetadata` (§6.1), in CreateKey's member order; DescribeKey adds the
/// deletion protection members at the end ([`KeyMetadata::with_deletion_protection`]).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata<'a> {
    key_id: &'a str,
    key_state: &'static str,
    arn: String,
    creator: &'a str,
    creation_date: String,
    last_rotation_date: String,
    /// Empty unless the key is pending deletion.
    delete_date: String,
    /// Absent for key pairs, which have no primary version (next-surfaces §3.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_key_version: Option<&'a str>,
    description: &'a str,
    key_spec: &'static str,
    key_usage: &'static str,
    origin: &'static str,
    /// When an EXTERNAL key's imported material expires; empty when it never does (and for
    /// every other key).
    material_expire_time: String,
    protection_level: &'static str,
    automatic_rotation: &'static str,
    /// With `NextRotationDate`, only when automatic rotation is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_rotation_date: Option<String>,
    /// DescribeKey's: `Enabled` or `Disabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_protection: Option<&'static str>,
    /// DescribeKey's: why the key is protected (empty when it is not).
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_protection_description: Option<&'a str>,
}

/// The reply of CreateKey and DescribeKey: `{"KeyMetadata":{…}}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Described<'a> {
    /// The key's metadata.
    pub key_metadata: KeyMetadata<'a>,
}

impl<'a> KeyMetadata<'a> {
    /// CreateKey's `KeyMetadata` of `key`.
    pub fn of(kms: &KeyService, key: &'a KeyRecord) -> Self {
        let (rotation_interval, next_rotation_date) = rotation(key);
        Self {
            key_id: &key.key_id,
            key_state: key.state.as_str(),
            arn: kms.key_arn(&key.key_id),
            creator: &key.creator,
            creation_date: dates::format(key.created_at),
            last_rotation_date: dates::format(key.last_rotation_at),
            delete_date: key.delete_at.map(dates::format).unwrap_or_default(),
            primary_key_version: (!key.spec.is_asymmetric()).then_some(&key.primary_version),
            description: &key.description,
            key_spec: key.spec.as_str(),
            key_usage: key.usage.as_str(),
            origin: key.origin.as_str(),
            material_expire_time: String::new(),
            protection_level: key.protection_level.as_str(),
            automatic_rotation: rotation_state(key),
            rotation_interval,
            next_rotation_date,
            deletion_protection: None,
            deletion_protection_description: None,
        }
    }

    /// `MaterialExpireTime` from an EXTERNAL key's material expiry (seconds; `None`: never).
    pub fn with_material_expiry(mut self, expire_at: Option<i64>) -> Self {
        self.material_expire_time = expire_at.map(dates::format).unwrap_or_default();
        self
    }

    /// DescribeKey's: adds `DeletionProtection` and `DeletionProtectionDescription`.
    pub fn with_deletion_protection(mut self, key: &'a KeyRecord) -> Self {
        let (state, description) = match &key.deletion_protection {
            Some(d) => ("Enabled", d.as_str()),
            None => ("Disabled", ""),
        };
        self.deletion_protection = Some(state);
        self.deletion_protection_description = Some(description);
        self
    }
}

/// `RotationInterval` (`<seconds>s`) and `NextRotationDate`, both or neither.
fn rotation(key: &KeyRecord) -> (Option<String>, Option<String>) {
    match (key.rotation_interval, key.next_rotation_at) {
        (Some(interval), Some(next)) => (Some(format!("{interval}s")), Some(dates::format(next))),
        _ => (None, None),
    }
}

fn rotation_state(key: &KeyRecord) -> &'static str {
    match key.rotation_interval {
        Some(_) => "Enabled",
        None => "Disabled",
    }
}

/// One key version, as CreateKeyVersion, DescribeKeyVersion and ListKeyVersions show it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyVersion<'a> {
    key_id: &'a str,
    key_version_id: &'a str,
    creation_date: String,
}

impl<'a> KeyVersion<'a> {
    /// The item of `version`.
    pub fn of(version: &'a VersionRecord) -> Self {
        Self {
            key_id: &version.key_id,
            key_version_id: &version.version_id,
            creation_date: dates::format(version.created_at),
        }
    }
}

/// The reply of CreateKeyVersion and DescribeKeyVersion: `{"KeyVersion":{…}}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OneVersion<'a> {
    /// The version.
    pub key_version: KeyVersion<'a>,
}

/// One alias, as ListAliases and ListAliasesByKeyId show it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alias<'a> {
    alias_name: &'a str,
    alias_arn: String,
    key_id: &'a str,
}

impl<'a> Alias<'a> {
    /// The item of `alias`.
    pub fn of(kms: &KeyService, alias: &'a AliasRecord) -> Self {
        Self {
            alias_name: &alias.name,
            alias_arn: kms.alias_arn(&alias.name),
            key_id: &alias.key_id,
        }
    }
}

/// One page of a listing on the wire: `{Outer:{Inner:[…]}}` then `PageNumber`, `PageSize`
/// and `TotalCount` as JSON integers (§4.1).
pub struct Listing<T> {
    /// The wrapper's names, e.g. `("Keys", "Key")`.
    names: (&'static str, &'static str),
    /// The items shown.
    items: Vec<T>,
    /// The window shown.
    page: Page,
    /// How many entries the whole listing has.
    total: usize,
}

impl<T: Serialize> Listing<T> {
    /// The reply of `paged`, each entry shown by `item`, under `(outer, inner)`.
    pub fn of<'a, R>(
        paged: &'a Paged<R>,
        names: (&'static str, &'static str),
        item: impl FnMut(&'a R) -> T,
    ) -> Self {
        Self {
            names,
            items: paged.items.iter().map(item).collect(),
            page: paged.page,
            total: paged.total,
        }
    }
}

impl<T: Serialize> Serialize for Listing<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (outer, inner) = self.names;
        let mut s = serializer.serialize_struct("Listing", 4)?;
        s.serialize_field(outer, &Wrapper(inner, self.items.as_slice()))?;
        s.serialize_field("PageNumber", &self.page.number)?;
        s.serialize_field("PageSize", &self.page.size)?;
        s.serialize_field("TotalCount", &self.total)?;
        s.end()
    }
}

/// `{Inner:[…]}`, the list wrapper of Alibaba's replies: the inner name and the list
/// (a `Vec` or a slice).
pub struct Wrapper<L>(pub &'static str, pub L);

impl<L: Serialize> Serialize for Wrapper<L> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Wrapper", 1)?;
        s.serialize_field(self.0, &self.1)?;
        s.end()
    }
}

/// `PageNumber` (from 1, default 1) and `PageSize` (1-100, default 10).
pub fn page(params: &Params) -> Result<Page, RpcError> {
    let number = int_or(params, "PageNumber", 1)?;
    let size = int_or(params, "PageSize", 10)?;
    if number < 1 {
        return Err(RpcError::invalid_because(
            "PageNumber",
            InvalidReason::OutOfRange,
        ));
    }
    if !(1..=100).contains(&size) {
        return Err(RpcError::invalid_because(
            "PageSize",
            InvalidReason::OutOfRange,
        ));
    }
    Ok(Page { number, size })
}

fn int_or(params: &Params, name: &'static str, default: usize) -> Result<usize, RpcError> {
    params.optional(name).map_or(Ok(default), |v| {
        v.parse().map_err(|_| RpcError::invalid(name))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use openkms_core::{
        AliasRecord, KeyRecord, KeyService, KeySpec, KeyState, KeyUsage, Origin, OsRandom,
        ProtectionLevel, RootKey, ServiceConfig, SystemClock, VersionRecord,
    };
    use openkms_ops::Page;
    use openkms_store_sqlite::SqliteStore;

    use super::{Alias, Described, KeyMetadata, KeyVersion, Listing};
    use crate::rpc::reply::{self, Format};

    const ACCOUNT: &str = "1234567890123456";

    async fn service(dir: &tempfile::TempDir) -> KeyService {
        let store = Arc::new(SqliteStore::open(&dir.path().join("db")).unwrap());
        let rng = Arc::new(OsRandom::new());
        let root = RootKey::generate(rng.as_ref());
        let config = ServiceConfig {
            region_id: "cn-hangzhou".into(),
            account_id: Some(ACCOUNT.into()),
            cache_ttl_ms: None,
        };
        let clock = Arc::new(SystemClock);
        KeyService::open(store, root, clock, rng, config)
            .await
            .unwrap()
    }

    fn record() -> KeyRecord {
        KeyRecord {
            key_id: "k1".into(),
            description: "d <&>".into(),
            spec: KeySpec::AliyunAes256,
            usage: KeyUsage::EncryptDecrypt,
            origin: Origin::AliyunKms,
            protection_level: ProtectionLevel::Software,
            state: KeyState::Enabled,
            creator: ACCOUNT.into(),
            created_at: 1_704_067_200,
            delete_at: None,
            primary_version: "v1".into(),
            last_rotation_at: 1_704_067_200,
            rotation_interval: None,
            next_rotation_at: None,
            deletion_protection: None,
            policy: None,
            revision: 1,
        }
    }

    fn json<T: serde::Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap()
    }

    const CREATED: &str = concat!(
        r#"{"KeyId":"k1","KeyState":"Enabled","#,
        r#""Arn":"acs:kms:cn-hangzhou:1234567890123456:key/k1","Creator":"1234567890123456","#,
        r#""CreationDate":"2024-01-01T00:00:00Z","LastRotationDate":"2024-01-01T00:00:00Z","#,
        r#""DeleteDate":"","PrimaryKeyVersion":"v1","Description":"d <&>","#,
        r#""KeySpec":"Aliyun_AES_256","KeyUsage":"ENCRYPT/DECRYPT","Origin":"Aliyun_KMS","#,
        r#""MaterialExpireTime":"","ProtectionLevel":"SOFTWARE","AutomaticRotation":"Disabled""#,
    );

    #[tokio::test]
    async fn key_metadata_keeps_the_member_order() {
        let dir = tempfile::tempdir().unwrap();
        let kms = service(&dir).await;
        let key = record();
        let created = json(&KeyMetadata::of(&kms, &key));
        assert_eq!(created, format!("{CREATED}}}"));
        let described = json(&KeyMetadata::of(&kms, &key).with_deletion_protection(&key));
        let tail = r#","DeletionProtection":"Disabled","DeletionProtectionDescription":""}"#;
        assert_eq!(described, format!("{CREATED}{tail}"));
    }

    #[tokio::test]
    async fn rotation_and_protection_come_last() {
        let dir = tempfile::tempdir().unwrap();
        let kms = service(&dir).await;
        let key = KeyRecord {
            rotation_interval: Some(604_800),
            next_rotation_at: Some(1_704_672_000),
            deletion_protection: Some("keep".into()),
            state: KeyState::PendingDeletion,
            delete_at: Some(1_704_672_000),
            ..record()
        };
        let reply = Described {
            key_metadata: KeyMetadata::of(&kms, &key).with_deletion_protection(&key),
        };
        let text = json(&reply);
        assert!(text.contains(r#""KeyState":"PendingDeletion""#));
        assert!(text.contains(r#""DeleteDate":"2024-01-08T00:00:00Z""#));
        let tail = concat!(
            r#""AutomaticRotation":"Enabled","RotationInterval":"604800s","#,
            r#""NextRotationDate":"2024-01-08T00:00:00Z","DeletionProtection":"Enabled","#,
            r#""DeletionProtectionDescription":"keep"}}"#,
        );
        assert!(text.starts_with(r#"{"KeyMetadata":{"KeyId":"k1","#));
        assert!(text.ends_with(tail), "{text}");
        // Only with both rotation members known is either shown.
        let half = KeyRecord {
            rotation_interval: Some(604_800),
            ..record()
        };
        let text = json(&KeyMetadata::of(&kms, &half));
        assert!(
            text.ends_with(r#""AutomaticRotation":"Enabled"}"#),
            "{text}"
        );
    }

    fn alias(name: &str) -> AliasRecord {
        AliasRecord {
            name: name.into(),
            key_id: "k1".into(),
            created_at: 0,
        }
    }

    #[tokio::test]
    async fn listings_wrap_their_page() {
        let dir = tempfile::tempdir().unwrap();
        let kms = service(&dir).await;
        let all = vec![alias("alias/a"), alias("alias/b"), alias("alias/c")];
        let paged = Page { number: 2, size: 2 }.of(all);
        let listing = Listing::of(&paged, ("Aliases", "Alias"), |a| Alias::of(&kms, a));
        let expected = concat!(
            r#"{"Aliases":{"Alias":[{"AliasName":"alias/c","#,
            r#""AliasArn":"acs:kms:cn-hangzhou:1234567890123456:alias/c","KeyId":"k1"}]},"#,
            r#""PageNumber":2,"PageSize":2,"TotalCount":3}"#,
        );
        assert_eq!(json(&listing), expected);
        let xml = reply::typed(Format::Xml, "ListAliases", &listing, "rid");
        let body = std::str::from_utf8(&xml.body).unwrap();
        let expected = concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><ListAliasesResponse><Aliases><Alias>"#,
            "<AliasName>alias/c</AliasName>",
            "<AliasArn>acs:kms:cn-hangzhou:1234567890123456:alias/c</AliasArn>",
            "<KeyId>k1</KeyId></Alias></Aliases><PageNumber>2</PageNumber>",
            "<PageSize>2</PageSize><TotalCount>3</TotalCount><RequestId>rid</RequestId>",
            "</ListAliasesResponse>",
        );
        assert_eq!(body, expected);
    }

    #[test]
    fn empty_listings_keep_the_wrapper() {
        let paged = Page {
            number: 1,
            size: 10,
        }
        .of(Vec::<VersionRecord>::new());
        let listing = Listing::of(&paged, ("KeyVersions", "KeyVersion"), KeyVersion::of);
        let expected = concat!(
            r#"{"KeyVersions":{"KeyVersion":[]},"#,
            r#""PageNumber":1,"PageSize":10,"TotalCount":0}"#,
        );
        assert_eq!(json(&listing), expected);
    }
}
