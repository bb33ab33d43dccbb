//! The key service over a minimal in-memory store: the use cases and their rules, without any
//! backend. Backends have their own conformance suite; this file tests the service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
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
    nonces: HashMap<(String, String), i64>,
    users: BTreeMap<String, UserRecord>,
    policies: BTreeMap<String, PolicyRecord>,
    attached: HashMap<(String, PolicyType, String), AttachmentRecord>,
}

impl Maps {
    fn attachments(&self, keep: impl Fn(&AttachmentRecord) -> bool) -> Vec<AttachmentRecord> {
        fn order(x: &AttachmentRecord) -> (i64, &str, &str, &str) {
            let kind = x.policy_type.as_str();
            (x.attached_at, kind, &x.policy_name, &x.user_name)
        }
        let mut v: Vec<_> = self
            .attached
            .values()
            .filter(|a| keep(a))
            .cloned()
            .collect();
        v.sort_by(|a, b| order(a).cmp(&order(b)));
        v
    }
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
    async fn update_key(&self, k: &KeyRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        match m.keys.get(&k.key_id) {
            None => Err(StoreError::NotFound),
            Some(old) if old.revision != k.revision - 1 => Err(StoreError::Conflict),
            Some(_) => {
                m.keys.insert(k.key_id.clone(), k.clone());
                Ok(())
            }
        }
    }
    async fn add_version(&self, k: &KeyRecord, v: &VersionRecord) -> Result<(), StoreError> {
        self.update_key(k).await?;
        self.0
            .lock()
            .unwrap()
            .versions
            .insert(v.version_id.clone(), v.clone());
        Ok(())
    }
    async fn list_versions(&self, id: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let m = self.0.lock().unwrap();
        let mut v: Vec<_> = m
            .versions
            .values()
            .filter(|v| v.key_id == id)
            .cloned()
            .collect();
        v.sort_by(|a, b| (a.created_at, &a.version_id).cmp(&(b.created_at, &b.version_id)));
        Ok(v)
    }
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let mut v: Vec<_> = self.0.lock().unwrap().keys.values().cloned().collect();
        v.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
        Ok(v)
    }
    async fn due_keys(&self, now: i64) -> Result<Vec<KeyRecord>, StoreError> {
        let keys = self.list_keys().await?;
        Ok(keys
            .into_iter()
            .filter(|k| {
                (k.state == KeyState::PendingDeletion && k.delete_at.is_some_and(|d| d <= now))
                    || (k.state == KeyState::Enabled
                        && k.next_rotation_at.is_some_and(|n| n <= now))
            })
            .collect())
    }
    async fn list_aliases(&self, key: Option<&str>) -> Result<Vec<AliasRecord>, StoreError> {
        let m = self.0.lock().unwrap();
        let mut v: Vec<_> = m
            .aliases
            .values()
            .filter(|a| key.is_none_or(|k| a.key_id == k))
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }
    async fn update_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if !m.aliases.contains_key(&a.name) {
            return Err(StoreError::NotFound);
        }
        m.aliases.insert(a.name.clone(), a.clone());
        Ok(())
    }
    async fn delete_alias(&self, n: &str) -> Result<bool, StoreError> {
        Ok(self.0.lock().unwrap().aliases.remove(n).is_some())
    }
    async fn put_tags(&self, id: &str, t: &[Tag]) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        let tags = m.tags.entry(id.into()).or_default();
        for tag in t {
            tags.retain(|x| x.key != tag.key);
            tags.push(tag.clone());
        }
        tags.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(())
    }
    async fn delete_tags(&self, id: &str, keys: &[String]) -> Result<(), StoreError> {
        if let Some(tags) = self.0.lock().unwrap().tags.get_mut(id) {
            tags.retain(|t| !keys.contains(&t.key));
        }
        Ok(())
    }
    async fn destroy_key(&self, id: &str) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        m.keys.remove(id).ok_or(StoreError::NotFound)?;
        let gone: Vec<String> = m
            .versions
            .values()
            .filter(|v| v.key_id == id)
            .map(|v| v.version_id.clone())
            .collect();
        for v in &gone {
            m.versions.remove(v);
            m.meta.insert(format!("destroyed/{v}"), vec![]);
        }
        m.aliases.retain(|_, a| a.key_id != id);
        m.tags.remove(id);
        Ok(())
    }
    async fn is_destroyed_version(&self, v: &str) -> Result<bool, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .meta
            .contains_key(&format!("destroyed/{v}")))
    }
    async fn use_nonce(&self, ak: &str, n: &str, exp: i64, now: i64) -> Result<bool, StoreError> {
        let mut m = self.0.lock().unwrap();
        let slot = m.nonces.entry((ak.into(), n.into())).or_insert(i64::MIN);
        if *slot >= now {
            return Ok(false);
        }
        *slot = exp;
        Ok(true)
    }
    async fn purge_nonces(&self, now: i64) -> Result<u64, StoreError> {
        let mut m = self.0.lock().unwrap();
        let before = m.nonces.len();
        m.nonces.retain(|_, exp| *exp >= now);
        Ok((before - m.nonces.len()) as u64)
    }
    async fn create_user(&self, u: &UserRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if m.users.contains_key(&u.user_name) {
            return Err(StoreError::AlreadyExists);
        }
        m.users.insert(u.user_name.clone(), u.clone());
        Ok(())
    }
    async fn get_user(&self, n: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.0.lock().unwrap().users.get(n).cloned())
    }
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        Ok(self.0.lock().unwrap().users.values().cloned().collect())
    }
    async fn delete_user(&self, n: &str) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if !m.users.contains_key(n) {
            return Err(StoreError::NotFound);
        }
        if m.access.values().any(|k| k.user == n) || m.attached.keys().any(|k| k.0 == n) {
            return Err(StoreError::Conflict);
        }
        m.users.remove(n);
        Ok(())
    }
    async fn list_access_keys(&self, n: &str) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let m = self.0.lock().unwrap();
        let mut v: Vec<_> = m.access.values().filter(|k| k.user == n).cloned().collect();
        v.sort_by(|a, b| (a.created_at, &a.access_key_id).cmp(&(b.created_at, &b.access_key_id)));
        Ok(v)
    }
    async fn set_access_key_active(&self, id: &str, active: bool) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        let key = m.access.get_mut(id).ok_or(StoreError::NotFound)?;
        key.active = active;
        Ok(())
    }
    async fn delete_access_key(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.0.lock().unwrap().access.remove(id).is_some())
    }
    async fn create_policy(&self, p: &PolicyRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if m.policies.contains_key(&p.policy_name) {
            return Err(StoreError::AlreadyExists);
        }
        m.policies.insert(p.policy_name.clone(), p.clone());
        Ok(())
    }
    async fn get_policy(&self, n: &str) -> Result<Option<PolicyRecord>, StoreError> {
        Ok(self.0.lock().unwrap().policies.get(n).cloned())
    }
    async fn list_policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        Ok(self.0.lock().unwrap().policies.values().cloned().collect())
    }
    async fn delete_policy(&self, n: &str) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        if !m.policies.contains_key(n) {
            return Err(StoreError::NotFound);
        }
        if m.attached
            .keys()
            .any(|k| k.1 == PolicyType::Custom && k.2 == n)
        {
            return Err(StoreError::Conflict);
        }
        m.policies.remove(n);
        Ok(())
    }
    async fn attach_policy(&self, a: &AttachmentRecord) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        let custom_missing =
            a.policy_type == PolicyType::Custom && !m.policies.contains_key(&a.policy_name);
        if !m.users.contains_key(&a.user_name) || custom_missing {
            return Err(StoreError::ReferenceNotFound);
        }
        let key = (a.user_name.clone(), a.policy_type, a.policy_name.clone());
        if m.attached.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        m.attached.insert(key, a.clone());
        Ok(())
    }
    async fn detach_policy(&self, u: &str, t: PolicyType, n: &str) -> Result<bool, StoreError> {
        let key = (u.to_owned(), t, n.to_owned());
        Ok(self.0.lock().unwrap().attached.remove(&key).is_some())
    }
    async fn list_user_attachments(&self, u: &str) -> Result<Vec<AttachmentRecord>, StoreError> {
        Ok(self.0.lock().unwrap().attachments(|a| a.user_name == u))
    }
    async fn list_policy_attachments(
        &self,
        t: PolicyType,
        n: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        let m = self.0.lock().unwrap();
        Ok(m.attachments(|a| a.policy_type == t && a.policy_name == n))
    }
}

fn config() -> ServiceConfig {
    ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: Some("1234567890123456".into()),
        cache_ttl_ms: None,
    }
}

const T0: i64 = 1_700_000_000;

async fn open(store: Arc<MemStore>, root: RootKey) -> Result<KeyService, StartupError> {
    open_at(store, root, Arc::new(ManualClock::new(T0))).await
}

async fn open_at(
    store: Arc<MemStore>,
    root: RootKey,
    clock: Arc<ManualClock>,
) -> Result<KeyService, StartupError> {
    KeyService::open(store, root, clock, Arc::new(OsRandom::new()), config()).await
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

#[tokio::test]
async fn state_changes_take_effect_on_the_next_request() {
    let svc = open(Arc::default(), root_from(ROOT)).await.unwrap();
    let key = svc.create_key(input(KeySpec::AliyunAes256)).await.unwrap();
    let id = KeyRef::Id(key.key_id.clone());
    let none = EncryptionContext::empty();
    let blob = svc.encrypt(&id, b"x", &none).await.unwrap().blob;
    svc.disable_key(&key.key_id).await.unwrap();
    assert!(matches!(
        svc.encrypt(&id, b"x", &none).await,
        Err(KmsError::KeyStateRejected(KeyState::Disabled))
    ));
    assert!(matches!(
        svc.decrypt(&blob, &none).await,
        Err(KmsError::KeyStateRejected(KeyState::Disabled))
    ));
    svc.enable_key(&key.key_id).await.unwrap();
    assert!(svc.decrypt(&blob, &none).await.is_ok());
    svc.set_deletion_protection(&key.key_id, Some("prod".into()))
        .await
        .unwrap();
    assert!(matches!(
        svc.schedule_key_deletion(&key.key_id, 7).await,
        Err(KmsError::DeletionProtected)
    ));
    svc.set_deletion_protection(&key.key_id, None)
        .await
        .unwrap();
    assert!(svc.schedule_key_deletion(&key.key_id, 6).await.is_err());
    svc.schedule_key_deletion(&key.key_id, 7).await.unwrap();
    assert!(matches!(
        svc.encrypt(&id, b"x", &none).await,
        Err(KmsError::KeyStateRejected(KeyState::PendingDeletion))
    ));
    assert!(matches!(
        svc.enable_key(&key.key_id).await,
        Err(KmsError::StateModifiedFailed)
    ));
    svc.cancel_key_deletion(&key.key_id).await.unwrap();
    assert!(svc.encrypt(&id, b"x", &none).await.is_ok());
    assert!(matches!(
        svc.cancel_key_deletion(&key.key_id).await,
        Err(KmsError::StateModifiedFailed)
    ));
}

#[tokio::test]
async fn rotation_and_deletion_follow_the_clock_across_a_restart() {
    let store: Arc<MemStore> = Arc::default();
    let clock = Arc::new(ManualClock::new(T0));
    let svc = open_at(store.clone(), root_from(ROOT), clock.clone())
        .await
        .unwrap();
    let mut inp = input(KeySpec::AliyunAes256);
    inp.rotation_interval = Some(7 * 86_400);
    let key = svc.create_key(inp).await.unwrap();
    let id = KeyRef::Id(key.key_id.clone());
    let none = EncryptionContext::empty();
    let old = svc.encrypt(&id, b"old", &none).await.unwrap();
    drop(svc);
    clock.advance(8 * 86_400); // the server was down when the rotation fell due
    let svc = open_at(store.clone(), root_from(ROOT), clock.clone())
        .await
        .unwrap();
    assert_eq!(svc.run_due().await.unwrap().rotated, 1);
    let new = svc.encrypt(&id, b"new", &none).await.unwrap();
    assert_ne!(new.version_id, old.version_id);
    assert_eq!(
        svc.decrypt(&old.blob, &none)
            .await
            .unwrap()
            .plaintext
            .expose_secret(),
        b"old"
    );
    let described = svc.describe_key(&id).await.unwrap();
    assert_eq!(described.primary_version, new.version_id);
    assert_eq!(
        described.next_rotation_at,
        Some(T0 + 8 * 86_400 + 7 * 86_400)
    );
    assert_eq!(svc.list_key_versions(&key.key_id).await.unwrap().len(), 2);
    svc.create_alias("alias/doomed", &id).await.unwrap();
    svc.schedule_key_deletion(&key.key_id, 7).await.unwrap();
    drop(svc);
    clock.advance(7 * 86_400);
    let svc = open_at(store.clone(), root_from(ROOT), clock)
        .await
        .unwrap();
    assert_eq!(svc.run_due().await.unwrap().destroyed, 1);
    assert!(matches!(
        svc.encrypt(&id, b"x", &none).await,
        Err(KmsError::KeyNotFound)
    ));
    assert!(matches!(
        svc.decrypt(&old.blob, &none).await,
        Err(KmsError::KeyNotFound)
    ));
    assert!(matches!(
        svc.resolve(&KeyRef::Alias("alias/doomed".into())).await,
        Err(KmsError::AliasNotFound)
    ));
    assert!(store.list_versions(&key.key_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn re_encrypt_moves_ciphertext_between_keys() {
    let svc = open(Arc::default(), root_from(ROOT)).await.unwrap();
    let a = svc.create_key(input(KeySpec::AliyunAes256)).await.unwrap();
    let b = svc.create_key(input(KeySpec::AliyunSm4)).await.unwrap();
    let ca = EncryptionContext::from_json(r#"{"from":"a"}"#).unwrap();
    let cb = EncryptionContext::from_json(r#"{"to":"b"}"#).unwrap();
    let blob = svc
        .encrypt(&KeyRef::Id(a.key_id), b"moved", &ca)
        .await
        .unwrap()
        .blob;
    let out = svc
        .re_encrypt(&blob, &ca, &KeyRef::Id(b.key_id.clone()), &cb)
        .await
        .unwrap();
    assert_eq!(out.key_id, b.key_id);
    assert_eq!(
        svc.decrypt(&out.blob, &cb)
            .await
            .unwrap()
            .plaintext
            .expose_secret(),
        b"moved"
    );
    assert!(
        svc.re_encrypt(&blob, &cb, &KeyRef::Id(b.key_id), &cb)
            .await
            .is_err()
    );
}

/// One lifecycle step of the property test.
#[derive(Debug, Clone)]
enum Step {
    Encrypt(u8),
    Disable,
    Enable,
    Rotate,
    Schedule,
    Cancel,
    Advance(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => any::<u8>().prop_map(Step::Encrypt),
        1 => Just(Step::Disable),
        1 => Just(Step::Enable),
        1 => Just(Step::Rotate),
        1 => Just(Step::Schedule),
        1 => Just(Step::Cancel),
        1 => (0i64..10).prop_map(|d| Step::Advance(d * 86_400)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// Whatever lifecycle sequence runs, an earlier ciphertext never decrypts to anything
    /// else, and it decrypts exactly while its key exists and is Enabled.
    #[test]
    fn lifecycle_never_corrupts_ciphertexts(steps in proptest::collection::vec(step(), 1..25)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let clock = Arc::new(ManualClock::new(T0));
            let svc = open_at(Arc::default(), root_from(ROOT), clock.clone()).await.unwrap();
            let mut inp = input(KeySpec::AliyunAes256);
            inp.rotation_interval = Some(7 * 86_400);
            let key = svc.create_key(inp).await.unwrap();
            let (id, none) = (KeyRef::Id(key.key_id.clone()), EncryptionContext::empty());
            let mut sealed: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            for s in steps {
                match s {
                    Step::Encrypt(b) => if let Ok(o) = svc.encrypt(&id, &[b; 3], &none).await { sealed.push((o.blob, vec![b; 3])) },
                    Step::Disable => { let _ = svc.disable_key(&key.key_id).await; }
                    Step::Enable => { let _ = svc.enable_key(&key.key_id).await; }
                    Step::Rotate => { let _ = svc.create_key_version(&key.key_id).await; }
                    Step::Schedule => { let _ = svc.schedule_key_deletion(&key.key_id, 7).await; }
                    Step::Cancel => { let _ = svc.cancel_key_deletion(&key.key_id).await; }
                    Step::Advance(d) => { clock.advance(d); svc.run_due().await.unwrap(); }
                }
                let usable = matches!(svc.describe_key(&id).await, Ok(k) if k.state == KeyState::Enabled);
                for (blob, plain) in &sealed {
                    match svc.decrypt(blob, &none).await {
                        Ok(p) => { prop_assert!(usable); prop_assert_eq!(p.plaintext.expose_secret(), plain.as_slice()); }
                        Err(_) => prop_assert!(!usable),
                    }
                }
            }
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn a_second_node_sees_a_change_once_its_cache_lifetime_passes() {
    let store: Arc<MemStore> = Arc::default();
    let clock = Arc::new(ManualClock::new(T0));
    let node = |ttl| {
        let (store, clock) = (store.clone(), clock.clone());
        async move {
            let config = ServiceConfig {
                cache_ttl_ms: ttl,
                ..config()
            };
            KeyService::open(
                store,
                root_from(ROOT),
                clock,
                Arc::new(OsRandom::new()),
                config,
            )
            .await
            .unwrap()
        }
    };
    let (a, b) = (node(Some(1000)).await, node(Some(1000)).await);
    let key = a.create_key(input(KeySpec::AliyunAes256)).await.unwrap();
    let id = KeyRef::Id(key.key_id.clone());
    let none = EncryptionContext::empty();
    assert!(
        b.encrypt(&id, b"x", &none).await.is_ok(),
        "a key made on A is usable on B at once"
    );
    a.disable_key(&key.key_id).await.unwrap();
    clock.advance(1);
    assert!(matches!(
        b.encrypt(&id, b"x", &none).await,
        Err(KmsError::KeyStateRejected(KeyState::Disabled))
    ));
}

#[tokio::test]
async fn a_nonce_used_at_one_node_is_refused_at_another() {
    let store: Arc<MemStore> = Arc::default();
    let shared = ServiceConfig {
        cache_ttl_ms: Some(1000),
        ..config()
    };
    let a = KeyService::open(
        store.clone(),
        root_from(ROOT),
        Arc::new(ManualClock::new(T0)),
        Arc::new(OsRandom::new()),
        shared.clone(),
    )
    .await
    .unwrap();
    let b = KeyService::open(
        store,
        root_from(ROOT),
        Arc::new(ManualClock::new(T0)),
        Arc::new(OsRandom::new()),
        shared,
    )
    .await
    .unwrap();
    assert!(a.shares_store() && b.shares_store());
    assert!(a.use_shared_nonce("ak", "n1", T0 + 900).await.unwrap());
    assert!(!b.use_shared_nonce("ak", "n1", T0 + 900).await.unwrap());
    assert!(b.use_shared_nonce("ak", "n2", T0 + 900).await.unwrap());
}
