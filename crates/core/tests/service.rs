//! The key service over a minimal in-memory store: the use cases and their rules, without any
//! backend. Backends have their own conformance suite; this file tests the service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::CountingProvider;
use openkms_core::asymmetric::SignAlgorithm;
use openkms_core::error::Entity;
use openkms_core::service::{
    CreateKeyInput, GENERATION_QUEUE, MAX_ACCESS_KEYS_PER_USER, MAX_TAGS, NewUser, RootAccessKey,
    StartupError,
};
use openkms_core::*;
use proptest::prelude::*;

use openkms_store_tests::memory::MemoryStore as MemStore;

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
    CreateKeyInput::of_spec(spec)
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
            field: Field::Plaintext,
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
                field: Field::NumberOfBytes,
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
        .encrypt(&KeyRef::Id(a.key_id.clone()), b"moved", &ca)
        .await
        .unwrap();
    let moved = svc
        .re_encrypt(&blob.blob, &ca, &KeyRef::Id(b.key_id.clone()), &cb)
        .await
        .unwrap();
    // The audit line names the version that opened the old ciphertext.
    assert_eq!(
        (
            moved.source_key_id.as_str(),
            moved.source_version_id.as_str()
        ),
        (a.key_id.as_str(), blob.version_id.as_str())
    );
    let out = moved.sealed;
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
        svc.re_encrypt(&blob.blob, &cb, &KeyRef::Id(b.key_id), &cb)
            .await
            .is_err()
    );
}

/// A service on a fresh memory store whose software provider counts (and can hold) what it
/// generates.
async fn counted() -> (KeyService, Arc<CountingProvider>) {
    let root: Arc<dyn RootSeal> = Arc::new(root_from(ROOT));
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom::new());
    let provider = CountingProvider::new(root.clone(), rng.clone());
    let clock = Arc::new(ManualClock::new(T0));
    let store: Arc<MemStore> = Arc::default();
    let svc = KeyService::open_with_provider(store, root, provider.clone(), clock, rng, config())
        .await
        .unwrap();
    (svc, provider)
}

/// Key pairs, and HSM AES keys, are each generated one at a time on a lane of their own:
/// while generations are held, a key pair's private key still signs, a full pair lane does
/// not hold HSM keys back, the creates beyond each lane's queue are throttled (and make
/// nothing), and the held ones all finish once let go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generation_has_bounded_lanes_of_its_own() {
    let (svc, provider) = counted().await;
    let svc = Arc::new(svc.with_hsm_provider(provider.clone()));
    let mut rsa = input(KeySpec::Rsa2048);
    rsa.usage = KeyUsage::SignVerify;
    let signer = svc.create_key(rsa.clone()).await.unwrap();
    let mut hsm = input(KeySpec::AliyunAes256);
    hsm.protection_level = ProtectionLevel::Hsm;
    let spawn_creates = |input: &CreateKeyInput, n: usize| {
        (0..n)
            .map(|_| {
                let (svc, input) = (svc.clone(), input.clone());
                tokio::spawn(async move { svc.create_key(input).await })
            })
            .collect::<Vec<_>>()
    };
    let seconds = std::time::Duration::from_secs;
    let made = |n: usize| {
        let provider = provider.clone();
        async move {
            let waited = std::time::Instant::now();
            while provider.made() < n {
                assert!(waited.elapsed() < seconds(30), "{} made", provider.made());
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    };
    let refused = |input: &CreateKeyInput| {
        let svc = svc.clone();
        let input = input.clone();
        async move {
            let refused = tokio::time::timeout(seconds(30), svc.create_key(input)).await;
            let refused = refused.expect("a create beyond the queue waited");
            assert!(matches!(refused, Err(KmsError::Throttled)), "{refused:?}");
        }
    };

    let held = provider.hold();
    // A pair generation runs (held) and pair creates fill its queue...
    let mut creates = spawn_creates(&rsa, 1);
    made(2).await;
    creates.extend(spawn_creates(&rsa, GENERATION_QUEUE));
    // ...yet an HSM key still starts generating, on its own lane.
    creates.extend(spawn_creates(&hsm, 1));
    made(3).await;
    creates.extend(spawn_creates(&hsm, GENERATION_QUEUE));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    refused(&rsa).await;
    refused(&hsm).await;
    let digest = [7u8; 32];
    let signed = tokio::time::timeout(
        seconds(30),
        svc.asymmetric_sign(
            &KeyRef::Id(signer.key_id.clone()),
            &signer.primary_version,
            SignAlgorithm::RsaPssSha256,
            &digest,
        ),
    )
    .await
    .expect("signing waited for the held generations");
    assert!(!signed.unwrap().bytes.is_empty());
    assert_eq!(
        provider.made(),
        3,
        "one held generation a lane, the rest waiting"
    );

    drop(held);
    for create in creates {
        create.await.unwrap().unwrap();
    }
    assert_eq!(provider.made(), 1 + 2 * (1 + GENERATION_QUEUE));
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
    let store_for_nonces = store.clone();
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
    // Nonces are the front end's, through the ReplayStore both nodes share (not the services).
    let replay: Arc<dyn ReplayStore> = store_for_nonces;
    assert!(
        replay
            .use_nonce("ak", "n1", T0 + 900, a.clock().now())
            .await
            .unwrap()
    );
    assert!(
        !replay
            .use_nonce("ak", "n1", T0 + 900, b.clock().now())
            .await
            .unwrap()
    );
    assert!(
        replay
            .use_nonce("ak", "n2", T0 + 900, b.clock().now())
            .await
            .unwrap()
    );
}

/// Whether `r` is the error of a request with more than `MAX_TAGS` tags.
fn too_many(r: Result<(), KmsError>) -> bool {
    let limit = InvalidReason::TooLong { max: MAX_TAGS };
    matches!(r, Err(KmsError::InvalidParameter { field: Field::Tags, reason }) if reason == limit)
}

#[tokio::test]
async fn tag_key_holds_a_key_to_max_tags_with_the_request_limit_error() {
    let svc = open(Arc::default(), root_from(ROOT)).await.unwrap();
    let key = svc.create_key(input(KeySpec::AliyunAes256)).await.unwrap();
    let tag = |k: String| Tag {
        key: k,
        value: "v".into(),
    };
    let tags = |range: std::ops::Range<usize>| -> Vec<Tag> {
        range.map(|i| tag(format!("t{i:02}"))).collect()
    };
    assert!(too_many(
        svc.tag_key(&key.key_id, &tags(0..MAX_TAGS + 1)).await
    ));
    svc.tag_key(&key.key_id, &tags(0..MAX_TAGS - 1))
        .await
        .unwrap();
    svc.tag_key(&key.key_id, &tags(MAX_TAGS - 1..MAX_TAGS))
        .await
        .unwrap();
    let over = [tag("t00".into()), tag("extra".into())];
    assert!(
        too_many(svc.tag_key(&key.key_id, &over).await),
        "a merged result past the limit is the same error as a request past it"
    );
    svc.tag_key(&key.key_id, &tags(0..2)).await.unwrap();
    assert_eq!(
        svc.list_key_tags(&key.key_id).await.unwrap(),
        tags(0..MAX_TAGS)
    );
    assert!(matches!(
        svc.tag_key("missing", &tags(0..1)).await,
        Err(KmsError::KeyNotFound)
    ));
}

#[tokio::test]
async fn create_access_key_holds_a_user_to_the_limit_and_needs_the_user() {
    let svc = open(Arc::default(), root_from(ROOT)).await.unwrap();
    let alice = NewUser {
        user_name: "alice".into(),
        ..NewUser::default()
    };
    svc.create_user(alice).await.unwrap();
    for _ in 0..MAX_ACCESS_KEYS_PER_USER {
        svc.create_access_key("alice").await.unwrap();
    }
    assert!(matches!(
        svc.create_access_key("alice").await,
        Err(KmsError::AccessKeyLimit)
    ));
    let owned = svc.list_access_keys("alice").await.unwrap();
    assert_eq!(
        owned.len(),
        MAX_ACCESS_KEYS_PER_USER,
        "the refused key is not kept"
    );
    assert!(matches!(
        svc.create_access_key("bob").await,
        Err(KmsError::EntityNotFound(Entity::User))
    ));
}

#[tokio::test]
async fn user_and_policy_names_and_texts_are_validated() {
    let svc = open(Arc::default(), root_from(ROOT)).await.unwrap();
    let user = |name: &str, comments: &str| NewUser {
        user_name: name.into(),
        comments: comments.into(),
        ..NewUser::default()
    };
    let refused = |r: Result<UserRecord, KmsError>, param: Field| matches!(r, Err(KmsError::InvalidParameter { field, .. }) if field == param);
    assert!(refused(
        svc.create_user(user("root", "")).await,
        Field::UserName
    ));
    assert!(refused(
        svc.create_user(user("a b", "")).await,
        Field::UserName
    ));
    assert!(refused(
        svc.create_user(user(&"u".repeat(65), "")).await,
        Field::UserName
    ));
    assert!(refused(
        svc.create_user(user("nul", "a\0b")).await,
        Field::Comments
    ));
    let made = svc.create_user(user("a.b@c-d_e", "ok")).await.unwrap();
    assert_eq!(
        made.display_name, "a.b@c-d_e",
        "DisplayName defaults to the name"
    );
    let doc = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;
    assert!(matches!(
        svc.create_policy("no_underscore", doc, "").await,
        Err(KmsError::InvalidParameter {
            field: Field::PolicyName,
            ..
        })
    ));
    assert!(matches!(
        svc.create_policy("AliyunKMSFullAccess", doc, "").await,
        Err(KmsError::EntityExists(Entity::Policy))
    ));
    assert!(matches!(
        svc.create_policy(
            "p",
            r#"{"Version":"1","Statement":[{"Effect":"Allow"}]}"#,
            ""
        )
        .await,
        Err(KmsError::MalformedPolicy(_))
    ));
    assert!(matches!(
        svc.create_policy("p", doc, "a\0b").await,
        Err(KmsError::InvalidParameter {
            field: Field::Description,
            ..
        })
    ));
}

#[tokio::test]
async fn stored_texts_hold_only_characters_every_reply_format_carries() {
    let svc = open(Arc::default(), root_from(ROOT)).await.unwrap();
    let with = |description: &str| CreateKeyInput {
        description: description.into(),
        ..input(KeySpec::AliyunAes256)
    };
    let plain = svc
        .create_key(with("line one\n\tline two\r\n"))
        .await
        .unwrap();
    for bad in [
        "bell\u{7}",
        "nul\u{0}",
        "escape\u{1b}[0m",
        "not a char\u{ffff}",
    ] {
        assert!(matches!(
            svc.create_key(with(bad)).await,
            Err(KmsError::InvalidParameter {
                field: Field::Description,
                ..
            })
        ));
        assert!(matches!(
            svc.update_key_description(&plain.key_id, bad).await,
            Err(KmsError::InvalidParameter {
                field: Field::Description,
                ..
            })
        ));
        assert!(matches!(
            svc.set_deletion_protection(&plain.key_id, Some(bad.into()))
                .await,
            Err(KmsError::InvalidParameter {
                field: Field::DeletionProtectionDescription,
                ..
            })
        ));
    }
}

/// Review finding 1: a CreateKey or CreateKeyVersion the quota refuses makes no key material
/// (an RSA_4096 generation costs seconds), and a made key pair is usable.
#[tokio::test]
async fn a_refused_create_generates_nothing() {
    let (svc, provider) = counted().await;
    let svc = svc.with_quotas(Quotas {
        keys: 1,
        versions_per_key: 1,
        ..Quotas::default()
    });
    let made = || provider.made();
    let mut rsa = input(KeySpec::Rsa2048);
    rsa.usage = KeyUsage::SignVerify;
    let key = svc.create_key(rsa.clone()).await.unwrap();
    assert_eq!(made(), 1);
    assert!(matches!(
        svc.create_key(rsa).await,
        Err(KmsError::LimitExceeded)
    ));
    assert!(matches!(
        svc.create_key_version(&key.key_id).await,
        Err(KmsError::LimitExceeded)
    ));
    assert_eq!(made(), 1);
    let id = KeyRef::Id(key.key_id.clone());
    let digest = [7u8; 32];
    let alg = openkms_core::asymmetric::SignAlgorithm::RsaPssSha256;
    let signed = svc
        .asymmetric_sign(&id, &key.primary_version, alg, &digest)
        .await
        .unwrap();
    let check = svc
        .asymmetric_verify(&id, &key.primary_version, alg, &digest, &signed.bytes)
        .await
        .unwrap();
    assert!(check.valid);
}

/// Review finding 5: a key-pair call refused for the key's state, usage or algorithm loads
/// (unwraps) no private key.
#[tokio::test]
async fn refused_pair_calls_load_no_private_key() {
    let root: Arc<dyn RootSeal> = Arc::new(root_from(ROOT));
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom::new());
    let store: Arc<MemStore> = Arc::default();
    let clock = Arc::new(ManualClock::new(T0));
    let first = open(store.clone(), root_from(ROOT)).await.unwrap();
    let mut p256 = input(KeySpec::EcP256);
    p256.usage = KeyUsage::SignVerify;
    let key = first.create_key(p256).await.unwrap();
    let provider = CountingProvider::new(root.clone(), rng.clone());
    let svc = KeyService::open_with_provider(store, root, provider.clone(), clock, rng, config())
        .await
        .unwrap();
    // The state changes go through `first`: they load the primary into ITS cache only.
    let loads = || provider.loaded();
    let id = KeyRef::Id(key.key_id.clone());
    let v = &key.primary_version;
    let rsa_alg = openkms_core::asymmetric::SignAlgorithm::RsaPssSha256;
    let ecdsa = openkms_core::asymmetric::SignAlgorithm::EcdsaSha256;
    let oaep = openkms_core::asymmetric::EncryptAlgorithm::RsaesOaepSha256;
    assert!(
        svc.asymmetric_sign(&id, v, rsa_alg, &[1; 32])
            .await
            .is_err()
    );
    assert!(svc.asymmetric_encrypt(&id, v, oaep, b"x").await.is_err());
    first.disable_key(&key.key_id).await.unwrap();
    assert!(matches!(
        svc.get_public_key(&id, v).await,
        Err(KmsError::KeyStateRejected(KeyState::Disabled))
    ));
    assert!(svc.asymmetric_sign(&id, v, ecdsa, &[1; 32]).await.is_err());
    assert_eq!(loads(), 0);
    first.enable_key(&key.key_id).await.unwrap();
    svc.asymmetric_sign(&id, v, ecdsa, &[1; 32]).await.unwrap();
    assert_eq!(loads(), 1);
}
