//! The server's authenticator accepts the spec's signed test vectors (§2.3 V1, §3.4 V3) at
//! their own time, and refuses them when anything is off: another secret, a changed
//! parameter, a replayed nonce, a stale clock, a body that does not match its hash.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use http::{HeaderMap, HeaderValue};
use openkms_api::auth::{Authenticator, RequestView};
use openkms_api::rpc::{Params, RpcError};
use openkms_core::service::RootAccessKey;
use openkms_core::{KeyService, ManualClock, OsRandom, RootKey, SecretBytes, ServiceConfig};
use openkms_store_sqlite::SqliteStore;

/// 2024-01-01T00:00:00Z, the vectors' timestamp.
const T: i64 = 1_704_067_200;

async fn service(dir: &tempfile::TempDir, clock: Arc<ManualClock>) -> KeyService {
    let store = Arc::new(SqliteStore::open(&dir.path().join("db")).unwrap());
    let rng = Arc::new(OsRandom::new());
    let root = RootKey::generate(rng.as_ref());
    let config = ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: None,
        cache_ttl_ms: None,
    };
    let svc = KeyService::open(store, root, clock, rng, config)
        .await
        .unwrap();
    let ak = RootAccessKey {
        access_key_id: "testakid".into(),
        secret: SecretBytes::new(b"testsecret".to_vec()),
    };
    svc.ensure_root_access_key(&ak).await.unwrap();
    svc
}

fn v1_params(plaintext: &str) -> Params {
    let pairs = [
        ("Action", "Encrypt"),
        ("Version", "2016-01-20"),
        ("Format", "JSON"),
        ("AccessKeyId", "testakid"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("Timestamp", "2024-01-01T00:00:00Z"),
        ("RegionId", "cn-hangzhou"),
        ("SignatureType", ""),
        ("KeyId", "alias/test_key-1"),
        ("Plaintext", plaintext),
        ("EncryptionContext", r#"{"purpose":"test a*b~c"}"#),
        ("Signature", "BfsrEjlT9afT14bqAhh6ld6u/1Q="),
    ];
    Params::from_pairs(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

#[tokio::test]
async fn v1_vector_verifies_once_and_only_when_intact() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T + 60));
    let svc = service(&dir, clock.clone()).await;
    let auth = Authenticator::default();
    let headers = HeaderMap::new();
    let good = v1_params("aGVsbG8gd29ybGQ=");
    let view = |p| RequestView {
        method: "POST",
        params: p,
        headers: &headers,
        body: b"",
    };
    let changed = v1_params("changed");
    assert!(matches!(
        auth.authenticate(&svc, view(&changed)).await,
        Err(RpcError::SignatureMismatch(_))
    ));
    assert_eq!(
        auth.authenticate(&svc, view(&good))
            .await
            .unwrap()
            .access_key_id,
        "testakid"
    );
    assert!(matches!(
        auth.authenticate(&svc, view(&good)).await,
        Err(RpcError::NonceUsed)
    ));
    let late = Authenticator::default();
    clock.set(T + 901);
    assert!(matches!(
        late.authenticate(&svc, view(&good)).await,
        Err(RpcError::TimestampExpired)
    ));
}

fn v3_headers(nonce: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |k: &'static str, v: &str| h.insert(k, HeaderValue::from_str(v).unwrap());
    put("host", "kms.cn-hangzhou.aliyuncs.com");
    put("x-acs-action", "Encrypt");
    put(
        "x-acs-content-sha256",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    put("x-acs-date", "2024-01-01T00:00:00Z");
    put("x-acs-signature-nonce", nonce);
    put("x-acs-version", "2016-01-20");
    put(
        "authorization",
        "ACS3-HMAC-SHA256 Credential=testakid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=bfa7e5e0e9395c4a3606d822cd2b341622883c69a33e83748964d5fc2de74ab2",
    );
    h
}

#[tokio::test]
async fn v3_vector_verifies_and_the_body_hash_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(&dir, Arc::new(ManualClock::new(T))).await;
    let auth = Authenticator::default();
    let query = "KeyId=alias%2Ftest_key-1&Plaintext=aGVsbG8gd29ybGQ%3D&EncryptionContext=%7B%22purpose%22%3A%22test+a*b~c%22%7D";
    let params = Params::parse(Some(query), None);
    let headers = v3_headers("d410180a5abf7fe235dd9b74aca91fc0");
    let tampered = RequestView {
        method: "POST",
        params: &params,
        headers: &headers,
        body: b"x=1",
    };
    assert!(matches!(
        auth.authenticate(&svc, tampered).await,
        Err(RpcError::IncompleteSignature)
    ));
    let view = RequestView {
        method: "POST",
        params: &params,
        headers: &headers,
        body: b"",
    };
    assert_eq!(auth.authenticate(&svc, view).await.unwrap().user, "root");
    let other = Params::parse(Some("KeyId=alias%2Fother"), None);
    let changed = RequestView {
        method: "POST",
        params: &other,
        headers: &headers,
        body: b"",
    };
    assert!(matches!(
        auth.authenticate(&svc, changed).await,
        Err(RpcError::SignatureMismatch(_))
    ));
}
