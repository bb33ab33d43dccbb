//! Root-key rotation over the in-memory store: everything opens under the new root key and
//! nothing under the old one; a second run finds the work done; a wrong key changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use openkms_core::rotation::{RotationError, rotate_root_key};
use openkms_core::service::{CreateKeyInput, RootAccessKey, StartupError};
use openkms_core::*;
use openkms_store_tests::memory::MemoryStore;

fn config() -> ServiceConfig {
    ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: None,
        cache_ttl_ms: None,
    }
}

async fn open(store: &MemoryStore, root: &str) -> Result<KeyService, StartupError> {
    let root = RootKey::from_base64(root).unwrap();
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    KeyService::open(
        Arc::new(store.clone()),
        root,
        clock,
        Arc::new(OsRandom::new()),
        config(),
    )
    .await
}

fn key(base64: &str) -> RootKey {
    RootKey::from_base64(base64).unwrap()
}

const OLD: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const NEW: &str = "HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=";
const OTHER: &str = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";

fn input() -> CreateKeyInput {
    CreateKeyInput::of_spec(KeySpec::AliyunAes256)
}

/// Keys with two versions, ciphertexts under both, the root AccessKey and a cursor.
async fn populate(svc: &KeyService) -> (Vec<(Vec<u8>, Vec<u8>)>, RootAccessKey, Vec<u8>) {
    let mut sealed = Vec::new();
    for n in 0..3u8 {
        let key = svc.create_key(input()).await.unwrap();
        let r = KeyRef::Id(key.key_id.clone());
        let ctx = EncryptionContext::empty();
        let text = vec![n; 100];
        sealed.push((
            svc.encrypt(&r, &text, &ctx).await.unwrap().blob,
            text.clone(),
        ));
        svc.create_key_version(&key.key_id).await.unwrap();
        let text = vec![n + 100; 10];
        sealed.push((svc.encrypt(&r, &text, &ctx).await.unwrap().blob, text));
    }
    let ak = RootAccessKey::generate(svc);
    let copy = RootAccessKey {
        access_key_id: ak.access_key_id.clone(),
        secret: SecretBytes::new(ak.secret.expose_secret().to_vec()),
    };
    svc.ensure_root_access_key(&ak).await.unwrap();
    let cursor = svc.seal_cursor("keys", b"position");
    (sealed, copy, cursor)
}

#[tokio::test]
async fn everything_opens_under_the_new_key_and_nothing_under_the_old() {
    let store = MemoryStore::default();
    let svc = open(&store, OLD).await.unwrap();
    let (sealed, ak, cursor) = populate(&svc).await;
    drop(svc);
    let rng = OsRandom::new();
    let report = rotate_root_key(&store, &key(OLD), &key(NEW), &rng)
        .await
        .unwrap();
    assert_eq!((report.versions, report.access_keys), (6, 1));
    assert!(!report.already_rotated);
    assert!(matches!(
        open(&store, OLD).await,
        Err(StartupError::WrongRootKey)
    ));
    let svc = open(&store, NEW).await.unwrap();
    for (blob, text) in &sealed {
        let out = svc
            .decrypt(blob, &EncryptionContext::empty())
            .await
            .unwrap();
        assert!(out.plaintext.ct_eq(text));
    }
    let cred = svc.credential(&ak.access_key_id).await.unwrap().unwrap();
    assert!(cred.secret.ct_eq(ak.secret.expose_secret()));
    assert_eq!(
        svc.open_cursor("keys", &cursor).as_deref(),
        Some(&b"position"[..]),
        "cursors handed out before still open"
    );
    for blob in store.wrapped_blobs().await.unwrap() {
        let id = match &blob.row {
            WrappedRow::Version {
                key_id, version_id, ..
            } => format!("{key_id}/{version_id}"),
            WrappedRow::AccessKey { access_key_id } => access_key_id.clone(),
            WrappedRow::Meta { .. } => unreachable!(),
        };
        for label in ["key-version", "access-key"] {
            assert!(key(OLD).unwrap(label, &id, &blob.bytes).is_err());
        }
    }
}

#[tokio::test]
async fn a_second_run_finds_the_work_done_and_a_wrong_key_changes_nothing() {
    let store = MemoryStore::default();
    let svc = open(&store, OLD).await.unwrap();
    populate(&svc).await;
    drop(svc);
    let rng = OsRandom::new();
    let before = store.wrapped_blobs().await.unwrap();
    let wrong = rotate_root_key(&store, &key(OTHER), &key(NEW), &rng).await;
    assert!(
        matches!(wrong, Err(RotationError::WrongRootKey)),
        "{wrong:?}"
    );
    let same = rotate_root_key(&store, &key(OLD), &key(OLD), &rng).await;
    assert!(matches!(same, Err(RotationError::SameKey)), "{same:?}");
    assert_eq!(
        store.wrapped_blobs().await.unwrap(),
        before,
        "nothing written"
    );
    rotate_root_key(&store, &key(OLD), &key(NEW), &rng)
        .await
        .unwrap();
    let again = rotate_root_key(&store, &key(OLD), &key(NEW), &rng)
        .await
        .unwrap();
    assert!(again.already_rotated);
    assert!(open(&store, NEW).await.is_ok());
}

#[tokio::test]
async fn an_uninitialised_store_is_refused() {
    let store = MemoryStore::default();
    let r = rotate_root_key(&store, &key(OLD), &key(NEW), &OsRandom::new()).await;
    assert!(matches!(r, Err(RotationError::Uninitialised)), "{r:?}");
}

/// An EXTERNAL key without material has nothing to rewrap and is left alone; imported
/// material is rewrapped like generated material and still decrypts.
#[tokio::test]
async fn imported_material_is_rewrapped_and_keys_without_material_are_skipped() {
    use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey};
    use openkms_core::byok::WrappingAlgorithm;
    let store = MemoryStore::default();
    let svc = open(&store, OLD).await.unwrap();
    let external = || CreateKeyInput {
        origin: Origin::External,
        ..input()
    };
    let empty = svc.create_key(external()).await.unwrap();
    let imported = svc.create_key(external()).await.unwrap();
    let r = KeyRef::Id(imported.key_id.clone());
    let params = svc
        .get_parameters_for_import(&r, WrappingAlgorithm::RsaesOaepSha256, KeySpec::Rsa2048)
        .await
        .unwrap()
        .parameters;
    let public = PublicEncryptingKey::from_der(&params.public_key_der).unwrap();
    let oaep = OaepPublicEncryptingKey::new(public).unwrap();
    let mut buf = vec![0u8; oaep.ciphertext_size()];
    let wrapped = oaep
        .encrypt(&OAEP_SHA256_MGF1SHA256, &[5u8; 32], &mut buf, None)
        .unwrap()
        .to_vec();
    svc.import_key_material(&r, wrapped, &params.token, 0)
        .await
        .unwrap();
    let ctx = EncryptionContext::empty();
    let blob = svc.encrypt(&r, b"imported", &ctx).await.unwrap().blob;
    drop(svc);
    let report = rotate_root_key(&store, &key(OLD), &key(NEW), &OsRandom::new())
        .await
        .unwrap();
    assert_eq!((report.versions, report.other_versions), (1, 1));
    let svc = open(&store, NEW).await.unwrap();
    let out = svc.decrypt(&blob, &ctx).await.unwrap();
    assert_eq!(out.plaintext.expose_secret(), b"imported");
    let still = svc.describe_key(&KeyRef::Id(empty.key_id)).await.unwrap();
    assert_eq!(still.state, KeyState::PendingImport);
}
