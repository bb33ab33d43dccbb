//! Key import (BYOK) through the key service over the in-memory store: the EXTERNAL key's
//! life (PendingImport, import, expiry, deletion, re-import), the refusals of §4, and the
//! revocation of a key's tokens after repeated failed imports. The material is wrapped here
//! with aws-lc-rs's RSA-OAEP as a client would (the OpenSSL procedure is covered by the
//! `byok` unit tests and the e2e tests).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey};
use openkms_core::byok::WrappingAlgorithm;
use openkms_core::service::CreateKeyInput;
use openkms_core::*;
use openkms_store_tests::memory::MemoryStore;

const T0: i64 = 1_700_000_000;
const ROOT: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

async fn service(clock: Arc<ManualClock>) -> KeyService {
    let config = ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: Some("1234567890123456".into()),
        cache_ttl_ms: None,
    };
    let store = Arc::new(MemoryStore::default());
    let root = RootKey::from_base64(ROOT).unwrap();
    KeyService::open(store, root, clock, Arc::new(OsRandom::new()), config)
        .await
        .unwrap()
}

fn external(spec: KeySpec) -> CreateKeyInput {
    CreateKeyInput {
        origin: Origin::External,
        ..CreateKeyInput::of_spec(spec)
    }
}

/// A service at T0 with a new EXTERNAL AES key: the clock, the service, the key's record and a
/// reference to it.
async fn with_external_key() -> (Arc<ManualClock>, KeyService, KeyRecord, KeyRef) {
    let clock = Arc::new(ManualClock::new(T0));
    let svc = service(clock.clone()).await;
    let record = svc
        .create_key(external(KeySpec::AliyunAes256))
        .await
        .unwrap();
    let key = KeyRef::Id(record.key_id.clone());
    (clock, svc, record, key)
}

/// A token and `material` wrapped with RSA-OAEP-SHA256 under its public key.
async fn wrapped(svc: &KeyService, key: &KeyRef, material: &[u8]) -> (String, Vec<u8>) {
    let out = svc
        .get_parameters_for_import(key, WrappingAlgorithm::RsaesOaepSha256, KeySpec::Rsa2048)
        .await
        .unwrap();
    let public = PublicEncryptingKey::from_der(&out.parameters.public_key_der).unwrap();
    let oaep = OaepPublicEncryptingKey::new(public).unwrap();
    let mut buf = vec![0u8; oaep.ciphertext_size()];
    let sealed = oaep
        .encrypt(&OAEP_SHA256_MGF1SHA256, material, &mut buf, None)
        .unwrap();
    (out.parameters.token, sealed.to_vec())
}

fn rejected(result: Result<impl Sized, KmsError>, state: KeyState) {
    assert!(
        matches!(result, Err(KmsError::KeyStateRejected(s)) if s == state),
        "expected Rejected.{state:?}"
    );
}

#[tokio::test]
async fn an_external_key_lives_through_import_expiry_deletion_and_reimport() {
    let clock = Arc::new(ManualClock::new(T0));
    let svc = service(clock.clone()).await;
    let record = svc
        .create_key(external(KeySpec::AliyunAes256))
        .await
        .unwrap();
    assert_eq!(record.state, KeyState::PendingImport);
    assert_eq!(record.origin, Origin::External);
    let key = KeyRef::Id(record.key_id.clone());
    let ctx = EncryptionContext::empty();
    rejected(svc.encrypt(&key, b"x", &ctx).await, KeyState::PendingImport);

    let material = [0x42u8; 32];
    let (token, sealed) = wrapped(&svc, &key, &material).await;
    svc.import_key_material(&key, sealed.clone(), &token, T0 + 100)
        .await
        .unwrap();
    let (described, expiry) = svc.describe_key_expiry(&key).await.unwrap();
    assert_eq!(
        (described.state, expiry),
        (KeyState::Enabled, Some(T0 + 100))
    );
    let blob = svc.encrypt(&key, b"hello", &ctx).await.unwrap().blob;
    assert_eq!(&blob[..36], record.primary_version.as_bytes());

    // Expiry: evaluated on access, the cached key included.
    clock.advance(100);
    let (described, expiry) = svc.describe_key_expiry(&key).await.unwrap();
    assert_eq!(
        (described.state, expiry),
        (KeyState::PendingImport, Some(T0 + 100))
    );
    rejected(svc.encrypt(&key, b"x", &ctx).await, KeyState::PendingImport);
    rejected(svc.decrypt(&blob, &ctx).await, KeyState::PendingImport);
    let enable = svc.enable_key(&record.key_id).await;
    assert!(matches!(enable, Err(KmsError::StateModifiedFailed)));

    // The same token, reused within its day, re-imports the same material without expiry.
    svc.import_key_material(&key, sealed, &token, 0)
        .await
        .unwrap();
    let back = svc.decrypt(&blob, &ctx).await.unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"hello");
    assert_eq!(svc.describe_key_expiry(&key).await.unwrap().1, None);

    // Other material is refused, whatever the token.
    let (token2, other) = wrapped(&svc, &key, &[0x43u8; 32]).await;
    let refused = svc.import_key_material(&key, other, &token2, 0).await;
    assert!(matches!(refused, Err(KmsError::InvalidKeyMaterial)));

    // Deletion: PendingImport, material gone from the cache, tokens revoked.
    svc.delete_key_material(&key).await.unwrap();
    assert_eq!(
        svc.describe_key(&key).await.unwrap().state,
        KeyState::PendingImport
    );
    rejected(svc.decrypt(&blob, &ctx).await, KeyState::PendingImport);
    rejected(svc.encrypt(&key, b"x", &ctx).await, KeyState::PendingImport);
    let (_, again) = wrapped(&svc, &key, &material).await;
    let revoked = svc.import_key_material(&key, again, &token, 0).await;
    assert!(matches!(revoked, Err(KmsError::InvalidImportToken)));
    clock.advance(1);
    let (token3, again) = wrapped(&svc, &key, &material).await;
    svc.import_key_material(&key, again, &token3, 0)
        .await
        .unwrap();
    let back = svc.decrypt(&blob, &ctx).await.unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"hello");
}

#[tokio::test]
async fn import_refusals_follow_section_4() {
    let clock = Arc::new(ManualClock::new(T0));
    let svc = service(clock.clone()).await;
    for bad in [
        external(KeySpec::Rsa2048),
        CreateKeyInput {
            rotation_interval: Some(30 * 86_400),
            ..external(KeySpec::AliyunSm4)
        },
        CreateKeyInput {
            protection_level: ProtectionLevel::Hsm,
            ..external(KeySpec::AliyunAes256)
        },
    ] {
        let refused = svc.create_key(bad).await;
        assert!(matches!(refused, Err(KmsError::UnsupportedOperation)));
    }
    let sm4 = svc.create_key(external(KeySpec::AliyunSm4)).await.unwrap();
    let key = KeyRef::Id(sm4.key_id.clone());
    assert!(matches!(
        svc.create_key_version(&sm4.key_id).await,
        Err(KmsError::RejectedUnsupported)
    ));
    assert!(matches!(
        svc.update_rotation_policy(&sm4.key_id, Some(30 * 86_400))
            .await,
        Err(KmsError::RejectedUnsupported)
    ));
    let made = svc
        .create_key(CreateKeyInput::of_spec(KeySpec::AliyunAes256))
        .await
        .unwrap();
    let made_ref = KeyRef::Id(made.key_id.clone());
    let alg = WrappingAlgorithm::RsaesOaepSha256;
    assert!(matches!(
        svc.get_parameters_for_import(&made_ref, alg, KeySpec::Rsa2048)
            .await,
        Err(KmsError::UnsupportedOrigin)
    ));
    assert!(matches!(
        svc.delete_key_material(&made_ref).await,
        Err(KmsError::UnsupportedOrigin)
    ));
    // A token of another key, a damaged token, a wrong length, a past expiry.
    let (token, sealed16) = wrapped(&svc, &key, &[7u8; 16]).await;
    let other = svc.create_key(external(KeySpec::AliyunSm4)).await.unwrap();
    let other_ref = KeyRef::Id(other.key_id.clone());
    let foreign = svc
        .import_key_material(&other_ref, sealed16.clone(), &token, 0)
        .await;
    assert!(matches!(foreign, Err(KmsError::InvalidImportToken)));
    let garbage = svc
        .import_key_material(&key, sealed16.clone(), "AAAA", 0)
        .await;
    assert!(matches!(garbage, Err(KmsError::InvalidImportToken)));
    let past = svc
        .import_key_material(&key, sealed16.clone(), &token, T0 - 1)
        .await;
    assert!(matches!(past, Err(KmsError::InvalidParameter { .. })));
    let (token32, sealed32) = wrapped(&svc, &key, &[7u8; 32]).await;
    let long = svc.import_key_material(&key, sealed32, &token32, 0).await;
    assert!(matches!(long, Err(KmsError::InvalidKeyMaterial)));
    // The token expires after 24 hours.
    clock.advance(86_400);
    let expired = svc
        .import_key_material(&key, sealed16.clone(), &token, 0)
        .await;
    assert!(matches!(expired, Err(KmsError::ExpiredImportToken)));
    // PendingDeletion refuses imports but still takes DeleteKeyMaterial.
    svc.schedule_key_deletion(&sm4.key_id, 7).await.unwrap();
    let (token, sealed16) = wrapped(&svc, &key, &[7u8; 16]).await;
    let pending = svc.import_key_material(&key, sealed16, &token, 0).await;
    assert!(matches!(pending, Err(KmsError::StateModifiedFailed)));
    svc.delete_key_material(&key).await.unwrap();
    let after = svc.describe_key(&key).await.unwrap();
    assert_eq!(after.state, KeyState::PendingDeletion);
    let cancelled = svc.cancel_key_deletion(&sm4.key_id).await.unwrap();
    assert_eq!(
        cancelled.state,
        KeyState::PendingImport,
        "no material: back to PendingImport"
    );
}

#[tokio::test]
async fn ten_failed_imports_revoke_every_token_of_the_key() {
    let (clock, svc, _record, key) = with_external_key().await;
    let (good_token, good) = wrapped(&svc, &key, &[9u8; 32]).await;
    let (bad_token, _) = wrapped(&svc, &key, &[9u8; 32]).await;
    for i in 0..byok::UNWRAP_FAILURE_LIMIT {
        let garbage = vec![i as u8; 256];
        let failed = svc.import_key_material(&key, garbage, &bad_token, 0).await;
        assert!(matches!(failed, Err(KmsError::InvalidKeyMaterial)), "{i}");
    }
    let revoked = svc.import_key_material(&key, good, &good_token, 0).await;
    assert!(matches!(revoked, Err(KmsError::InvalidImportToken)));
    clock.advance(1);
    let (token, good) = wrapped(&svc, &key, &[9u8; 32]).await;
    svc.import_key_material(&key, good, &token, 0)
        .await
        .unwrap();
    assert_eq!(
        svc.describe_key(&key).await.unwrap().state,
        KeyState::Enabled
    );
}

/// Concurrent first imports of different material: exactly one wins, every other is
/// InvalidKeyMaterial, and only the winner's material can be imported again (review
/// finding 1: the first fingerprint is never overwritten).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_imports_of_different_material_have_one_winner() {
    let (_clock, svc, _record, key) = with_external_key().await;
    let svc = Arc::new(svc);
    let mut tasks = Vec::new();
    for i in 0..4u8 {
        let (token, sealed) = wrapped(&svc, &key, &[i; 32]).await;
        let (svc, key) = (svc.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            svc.import_key_material(&key, sealed, &token, 0).await
        }));
    }
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(_) => winners.push(i as u8),
            Err(KmsError::InvalidKeyMaterial) => {}
            Err(e) => panic!("import {i}: {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one first import wins");
    for i in 0..4u8 {
        let (token, sealed) = wrapped(&svc, &key, &[i; 32]).await;
        let again = svc.import_key_material(&key, sealed, &token, 0).await;
        assert_eq!(again.is_ok(), i == winners[0], "re-import of material {i}");
    }
}

/// DeleteKeyMaterial keeps the first fingerprint: after it, other material is refused and
/// the first is accepted again.
#[tokio::test]
async fn delete_key_material_keeps_the_first_fingerprint() {
    let (clock, svc, _record, key) = with_external_key().await;
    let (token, sealed) = wrapped(&svc, &key, &[1u8; 32]).await;
    svc.import_key_material(&key, sealed, &token, 0)
        .await
        .unwrap();
    svc.delete_key_material(&key).await.unwrap();
    clock.advance(1);
    let (token, other) = wrapped(&svc, &key, &[2u8; 32]).await;
    let refused = svc.import_key_material(&key, other, &token, 0).await;
    assert!(matches!(refused, Err(KmsError::InvalidKeyMaterial)));
    let (token, first) = wrapped(&svc, &key, &[1u8; 32]).await;
    svc.import_key_material(&key, first, &token, 0)
        .await
        .unwrap();
}

/// Many concurrent bad imports with one token: at most the failure limit of unwraps is ever
/// attempted (each attempted one answers InvalidKeyMaterial), every other is refused with
/// InvalidImportToken before its unwrap (review finding 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bad_imports_never_exceed_the_failure_limit() {
    let (_clock, svc, _record, key) = with_external_key().await;
    let svc = Arc::new(svc);
    let (token, _) = wrapped(&svc, &key, &[9u8; 32]).await;
    let tasks: Vec<_> = (0..60u8)
        .map(|i| {
            let (svc, key, token) = (svc.clone(), key.clone(), token.clone());
            tokio::spawn(
                async move { svc.import_key_material(&key, vec![i; 256], &token, 0).await },
            )
        })
        .collect();
    let (mut unwrapped, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Err(KmsError::InvalidKeyMaterial) => unwrapped += 1,
            Err(KmsError::InvalidImportToken) => refused += 1,
            other => panic!("unexpected {:?}", other.map(|_| ())),
        }
    }
    assert!(
        unwrapped <= byok::UNWRAP_FAILURE_LIMIT,
        "{unwrapped} unwraps attempted"
    );
    assert_eq!(unwrapped + refused, 60);
}

/// DisableKey, DeleteKeyMaterial, re-import: the key comes back Disabled, not Enabled; an
/// Enabled key deleted and re-imported comes back Enabled (review finding 6).
#[tokio::test]
async fn reimport_restores_the_state_before_the_delete() {
    let (clock, svc, record, key) = with_external_key().await;
    let (token, sealed) = wrapped(&svc, &key, &[3u8; 32]).await;
    svc.import_key_material(&key, sealed, &token, 0)
        .await
        .unwrap();
    for (disable, expected) in [(true, KeyState::Disabled), (false, KeyState::Enabled)] {
        if disable {
            svc.disable_key(&record.key_id).await.unwrap();
        }
        svc.delete_key_material(&key).await.unwrap();
        clock.advance(1);
        let (token, sealed) = wrapped(&svc, &key, &[3u8; 32]).await;
        svc.import_key_material(&key, sealed, &token, 0)
            .await
            .unwrap();
        assert_eq!(svc.describe_key(&key).await.unwrap().state, expected);
        if disable {
            svc.enable_key(&record.key_id).await.unwrap();
        }
    }
}

/// A key whose material expired is listed as PendingImport by ListKeys' KeyState filter
/// (paged or not), not as Enabled, and refused up front as a secret's CMK (review finding 8).
#[tokio::test]
async fn expired_material_is_pending_import_for_list_filters_and_secrets() {
    use openkms_core::service::KeyFilter;
    use openkms_core::service::secrets::NewSecret;
    let (clock, svc, record, key) = with_external_key().await;
    let (token, sealed) = wrapped(&svc, &key, &[5u8; 32]).await;
    svc.import_key_material(&key, sealed, &token, T0 + 10)
        .await
        .unwrap();
    clock.advance(10);
    let by_state = |state: &str| {
        vec![KeyFilter {
            key: "KeyState".into(),
            values: vec![state.into()],
        }]
    };
    let listed = |keys: Vec<KeyRecord>| keys.iter().any(|k| k.key_id == record.key_id);
    assert!(!listed(svc.list_keys(&by_state("Enabled")).await.unwrap()));
    assert!(listed(
        svc.list_keys(&by_state("PendingImport")).await.unwrap()
    ));
    let page = svc
        .list_keys_page(&by_state("PendingImport"), 1, 10)
        .await
        .unwrap();
    assert_eq!((page.total, listed(page.items)), (1, true));
    let page = svc
        .list_keys_page(&by_state("Enabled"), 1, 10)
        .await
        .unwrap();
    assert_eq!(page.total, 0);
    let secret = NewSecret {
        name: "db/pw".into(),
        version_id: "v1".into(),
        data: SecretBytes::new(b"value".to_vec()),
        data_type: SecretDataType::Text,
        secret_type: "Generic".into(),
        key: Some(key.clone()),
        description: String::new(),
        tags: vec![],
        policy: None,
    };
    let refused = svc.create_secret(secret).await;
    assert!(
        matches!(
            refused,
            Err(KmsError::KeyStateRejected(KeyState::PendingImport))
        ),
        "{:?}",
        refused.map(|_| ())
    );
}
