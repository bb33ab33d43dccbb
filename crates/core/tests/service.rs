//! The key service over a minimal in-memory store: the use cases and their rules, without any
//! backend. Backends have their own conformance suite; this file tests the service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use openkms_core::service::{CreateKeyInput, RootAccessKey, StartupError};
use openkms_core::*;
use proptest::prelude::*;

/// A store that keeps everything in maps; enough for service tests.
#[derive(Default)]
struct MemStore(Mutex<Maps>);

#[derive(Default)]
struct Maps {
    meta: HashMap<String, Vec<u8>>,
    keys: HashMap<String, KeyRecord>,
    versions: HashMap<String, VersionRecord>,
    tags: HashMap<String, Vec<Tag>>,
    aliases: HashMap<String, AliasRecord>,
    access: HashMap<String, AccessKeyRecord>,
}

#[async_trait]
impl Store for MemStore {
    async fn get_meta(&self, n: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.lock().unwrap().meta.get(n).cloned())
    }
    async fn put_meta_if_absent(&self, n: &str, v: &[u8]) -> Result<bool, StoreError> {
        let mut m = self.0.lock().unwrap();
        Ok(m.meta.insert(n.into(), v.into()).is_none())
    }
    async fn create_key(
        &self,
        k: &KeyRecord,
        v: &VersionRecord,
        t: &[Tag],
    ) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        m.keys.insert(k.key_id.clone(), k.clone());
        m.versions.insert(v.version_id.clone(), v.clone());
        m.tags.insert(k.key_id.clone(), t.to_vec());
        Ok(())
    }
    async fn get_key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self.0.lock().unwrap().keys.get(id).cloned())
    }
    async fn get_version(&self, id: &str) -> Result<Option<VersionRecord>, StoreError> {
        Ok(self.0.lock().unwrap().versions.get(id).cloned())
    }
    async fn list_tags(&self, id: &str) -> Result<Vec<Tag>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .tags
            .get(id)
            .cloned()
            .unwrap_or_default())
    }
    async fn create_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if m.aliases.contains_key(&a.name) {
            return Err(StoreError::AlreadyExists);
        }
        m.aliases.insert(a.name.clone(), a.clone());
        Ok(())
    }
    async fn get_alias(&self, n: &str) -> Result<Option<AliasRecord>, StoreError> {
        Ok(self.0.lock().unwrap().aliases.get(n).cloned())
    }
    async fn create_access_key(&self, k: &AccessKeyRecord) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .access
            .insert(k.access_key_id.clone(), k.clone());
        Ok(())
    }
    async fn get_access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        Ok(self.0.lock().unwrap().access.get(id).cloned())
    }
    async fn is_empty(&self) -> Result<bool, StoreError> {
        let m = self.0.lock().unwrap();
        Ok(m.keys.is_empty() && m.access.is_empty())
    }
}

fn config() -> ServiceConfig {
    ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: Some("1234567890123456".into()),
    }
}

async fn open(store: Arc<MemStore>, root: RootKey) -> Result<KeyService, StartupError> {
    KeyService::open(
        store,
        root,
        Arc::new(ManualClock::new(1_700_000_000)),
        Arc::new(OsRandom::new()),
        config(),
    )
    .await
}

fn root_from(text: &str) -> RootKey {
    RootKey::from_base64(text).unwrap()
}

const ROOT: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn input(spec: KeySpec) -> CreateKeyInput {
    CreateKeyInput {
        description: String::new(),
        spec,
        usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AliyunKms,
        protection_level: ProtectionLevel::Software,
        rotation_interval: None,
        tags: vec![],
        policy: None,
    }
}

#[tokio::test]
async fn encrypt_decrypt_through_id_alias_and_arn() {
    let svc = open(Arc::default(), root_from(ROOT)).await.unwrap();
    let key = svc.create_key(input(KeySpec::AliyunAes256)).await.unwrap();
    svc.create_alias("alias/Apollo/WorkKey", &KeyRef::Id(key.key_id.clone()))
        .await
        .unwrap();
    let ctx = EncryptionContext::from_json(r#"{"a":"b"}"#).unwrap();
    for name in [
        key.key_id.clone(),
        "alias/Apollo/WorkKey".into(),
        svc.key_arn(&key.key_id),
    ] {
        let r = svc.parse_key_ref(&name).unwrap();
        let out = svc.encrypt(&r, b"secret", &ctx).await.unwrap();
        assert_eq!(out.key_id, key.key_id);
        assert_eq!(&out.blob[..36], key.primary_version.as_bytes());
        let back = svc.decrypt(&out.blob, &ctx).await.unwrap();
        assert_eq!(back.plaintext.expose_secret(), b"secret");
        assert!(matches!(
            svc.decrypt(&out.blob, &EncryptionContext::empty()).await,
            Err(KmsError::InvalidCiphertext)
        ));
    }
}

#[tokio::test]
async fn errors_of_the_seed_operations() {
    let svc = open(Arc::default(), root_from(ROOT)).await.unwrap();
    let key = svc.create_key(input(KeySpec::AliyunSm4)).await.unwrap();
    let id = KeyRef::Id(key.key_id.clone());
    svc.create_alias("alias/x", &id).await.unwrap();
    assert!(matches!(
        svc.create_alias("alias/x", &id).await,
        Err(KmsError::AliasAlreadyExists)
    ));
    assert!(matches!(
        svc.create_alias("alias/y", &KeyRef::Id("nope".into()))
            .await,
        Err(KmsError::KeyNotFound)
    ));
    let none = EncryptionContext::empty();
    let missing = KeyRef::Alias("alias/missing".into());
    assert!(matches!(
        svc.encrypt(&missing, b"x", &none).await,
        Err(KmsError::AliasNotFound)
    ));
    let big = vec![b'a'; 6145];
    assert!(matches!(
        svc.encrypt(&id, &big, &none).await,
        Err(KmsError::InvalidParameter {
            name: "Plaintext",
            ..
        })
    ));
    assert!(svc.encrypt(&id, &big[..6144], &none).await.is_ok());
    assert!(matches!(
        svc.parse_key_ref("acs:kms:cn-hangzhou:999:key/x"),
        Err(KmsError::KeyNotFound)
    ));
}

#[tokio::test]
async fn a_second_service_on_the_same_store_reads_keys_and_refuses_a_wrong_root_key() {
    let store: Arc<MemStore> = Arc::default();
    let svc = open(store.clone(), root_from(ROOT)).await.unwrap();
    let key = svc.create_key(input(KeySpec::AliyunAes256)).await.unwrap();
    let out = svc
        .encrypt(&KeyRef::Id(key.key_id), b"p", &EncryptionContext::empty())
        .await
        .unwrap();
    svc.ensure_root_access_key(&RootAccessKey::generate(&svc))
        .await
        .unwrap();
    let again = open(store.clone(), root_from(ROOT)).await.unwrap();
    let back = again
        .decrypt(&out.blob, &EncryptionContext::empty())
        .await
        .unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"p");
    let ak = again.root_access_key_id().await.unwrap().unwrap();
    assert!(again.credential(&ak).await.unwrap().is_some());
    let other = RootKey::generate(&OsRandom::new());
    assert!(matches!(
        open(store, other).await,
        Err(StartupError::WrongRootKey)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_plaintext_and_context_round_trip(pt in proptest::collection::vec(any::<u8>(), 0..6144),
                                            ctx in proptest::collection::btree_map(".{0,8}", ".{0,8}", 0..4),
                                            flip in any::<prop::sample::Index>()) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let svc = open(Arc::default(), root_from(ROOT)).await.unwrap();
            let key = svc.create_key(input(KeySpec::AliyunAes256)).await.unwrap();
            let ctx = EncryptionContext::from_map(ctx).unwrap();
            let out = svc.encrypt(&KeyRef::Id(key.key_id), &pt, &ctx).await.unwrap();
            let back = svc.decrypt(&out.blob, &ctx).await.unwrap();
            prop_assert_eq!(back.plaintext.expose_secret(), pt.as_slice());
            let mut bad = out.blob.clone();
            let i = flip.index(bad.len());
            bad[i] ^= 1;
            prop_assert!(svc.decrypt(&bad, &ctx).await.is_err());
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn data_keys_decrypt_to_their_base64_text() {
    use base64::Engine as _;
    let svc = open(Arc::default(), root_from(ROOT)).await.unwrap();
    let key = svc.create_key(input(KeySpec::AliyunAes256)).await.unwrap();
    let id = KeyRef::Id(key.key_id);
    let ctx = EncryptionContext::from_json(r#"{"file":"a"}"#).unwrap();
    for len in [1, 16, 32, 1024] {
        let dk = svc.generate_data_key(&id, len, &ctx).await.unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(dk.plaintext_base64.expose_secret())
            .unwrap();
        assert_eq!(raw.len(), len);
        let back = svc.decrypt(&dk.blob, &ctx).await.unwrap();
        assert!(back.plaintext.ct_eq(dk.plaintext_base64.expose_secret()));
    }
    for bad in [0, 1025] {
        assert!(matches!(
            svc.generate_data_key(&id, bad, &ctx).await,
            Err(KmsError::InvalidParameter {
                name: "NumberOfBytes",
                ..
            })
        ));
    }
}
