//! Throttling and quotas in process (issue 13): `serve` on `127.0.0.1:0` with a real store.
//!
//! Owns: failed authentications throttled per source address (the verdict withheld, a
//! correctly signed request from the same address still served, the default budget), the
//! per-AccessKey request quota (`Throttling.User`), and the resource quotas
//! (`Rejected.LimitExceeded`, nothing created, held under concurrent creates). Not here: the
//! bucket arithmetic and the table's bounds (unit tests in `throttle.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod support;

use std::sync::Arc;
use std::time::Duration;

use openkms_api::throttle::{FailureRate, KeyRate, Limits};
use openkms_api::{App, ServerOptions};
use openkms_client::{AccessKeySecret, Client, ClientConfig, ClientError, RawRequest};
use openkms_core::service::RootAccessKey;
use openkms_core::{
    KeyService, OsRandom, Quotas, RootKey, SecretBytes, ServiceConfig, SystemClock,
};
use openkms_store_sqlite::SqliteStore;
use support::{AK_ID, AK_SECRET, TestServer, Transport};

const THROTTLING_MESSAGE: &str = "Request was denied due to request throttling.";
const LIMIT_MESSAGE: &str =
    "The request was rejected because user create resource limit was exceeded.";
const RAM: &str = "2015-05-01";

/// Status, code, message and `RequestId` of an API error.
fn api_error(err: ClientError) -> (u16, String, String, String) {
    let ClientError::Api {
        status,
        code,
        request_id,
        body,
        ..
    } = err
    else {
        panic!("expected an API error, got {err}");
    };
    assert_eq!(body["RequestId"], request_id.as_str());
    assert_eq!(request_id.len(), 36, "{request_id}");
    let message = body["Message"].as_str().unwrap_or_default().to_owned();
    (status, code, message, request_id)
}

/// An Encrypt signed with a wrong secret.
fn badly_signed(key: &str) -> RawRequest {
    let mut req = RawRequest::new("Encrypt")
        .param("KeyId", key)
        .param("Plaintext", "eA==");
    req.signing_secret = Some(AccessKeySecret::new("not-the-secret"));
    req
}

async fn encrypt(client: &Client, key: &str) -> Result<serde_json::Value, ClientError> {
    client
        .call("Encrypt", &[("KeyId", key), ("Plaintext", "eA==")])
        .await
}

fn with_limits(limits: Limits) -> impl FnOnce(App) -> App {
    move |app| app.with_limits(limits)
}

#[tokio::test]
async fn failed_authentications_are_throttled_but_a_signed_request_still_passes() {
    let rate = FailureRate {
        burst: 3,
        per_minute: 0,
        sources: 16,
    };
    let limits = with_limits(Limits::new(Some(rate), None));
    let server = TestServer::start_custom(Transport::Http, ServerOptions::default(), limits).await;
    let key = server.key().await;
    for _ in 0..3 {
        let err = server
            .client
            .call_with(badly_signed(&key))
            .await
            .unwrap_err();
        assert_eq!(api_error(err).1, "SignatureDoesNotMatch");
    }
    // The budget is spent: the verdict is withheld, whatever the failure.
    let err = server
        .client
        .call_with(badly_signed(&key))
        .await
        .unwrap_err();
    let (status, code, message, _) = api_error(err);
    assert_eq!((status, code.as_str()), (400, "Throttling"));
    assert_eq!(message, THROTTLING_MESSAGE);
    let mut unknown = RawRequest::new("Encrypt").param("KeyId", &key);
    unknown.access_key_id = Some("LTAI5tNoSuchAccessKey01".into());
    let err = server.client.call_with(unknown).await.unwrap_err();
    assert_eq!(api_error(err).1, "Throttling");
    // A correctly signed request from the same address is served.
    encrypt(&server.client, &key)
        .await
        .expect("a signed Encrypt");
    // Its replay is a failure like any other: throttled, not answered.
    let prepared = server
        .client
        .prepare(RawRequest::new("DescribeKey").param("KeyId", &key))
        .unwrap();
    server
        .client
        .send(&prepared)
        .await
        .unwrap()
        .into_result()
        .unwrap();
    let replay = server.client.send(&prepared).await.unwrap().into_result();
    assert_eq!(api_error(replay.unwrap_err()).1, "Throttling");
}

#[tokio::test]
async fn by_default_a_hundred_failures_get_their_verdict_then_throttling() {
    let server = TestServer::start(Transport::Http).await;
    let key = server.key().await;
    for i in 0..100 {
        let err = server
            .client
            .call_with(badly_signed(&key))
            .await
            .unwrap_err();
        assert_eq!(api_error(err).1, "SignatureDoesNotMatch", "failure {i}");
    }
    // One failure a second comes back, so a few more may get through before the budget ends.
    let mut throttled = false;
    for _ in 0..30 {
        let err = server
            .client
            .call_with(badly_signed(&key))
            .await
            .unwrap_err();
        if api_error(err).1 == "Throttling" {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "no Throttling after 130 failures");
    encrypt(&server.client, &key)
        .await
        .expect("a signed Encrypt");
}

#[tokio::test]
async fn an_access_key_beyond_its_quota_gets_throttling_user() {
    let per_key = KeyRate {
        burst: 3,
        per_second: 0,
    };
    let limits = with_limits(Limits::new(None, Some(per_key)));
    let server = TestServer::start_custom(Transport::Http, ServerOptions::default(), limits).await;
    let key = server.key().await;
    for _ in 0..3 {
        encrypt(&server.client, &key)
            .await
            .expect("within the quota");
    }
    let err = encrypt(&server.client, &key).await.unwrap_err();
    let (status, code, message, _) = api_error(err);
    assert_eq!((status, code.as_str()), (400, "Throttling.User"));
    assert_eq!(message, THROTTLING_MESSAGE);
}

/// A server whose service has `quotas`, and a root client for it.
struct QuotaServer {
    client: Arc<Client>,
    service: Arc<KeyService>,
}

async fn quota_server(quotas: Quotas) -> QuotaServer {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("openkms.db")).unwrap();
    let config = ServiceConfig {
        region_id: support::REGION.into(),
        account_id: None,
        cache_ttl_ms: None,
    };
    let rng = Arc::new(OsRandom::new());
    let root = RootKey::generate(rng.as_ref());
    let service = KeyService::open(Arc::new(store), root, Arc::new(SystemClock), rng, config)
        .await
        .unwrap()
        .with_quotas(quotas);
    let ak = RootAccessKey {
        access_key_id: AK_ID.into(),
        secret: SecretBytes::new(AK_SECRET.into()),
    };
    service.ensure_root_access_key(&ak).await.unwrap();
    let service = Arc::new(service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Arc::new(App::new(service.clone(), 64 * 1024).over_tls(false));
    tokio::spawn(async move {
        let _dir = dir;
        openkms_api::serve(
            listener,
            app,
            ServerOptions::default(),
            std::future::pending(),
        )
        .await
    });
    let client = Client::new(ClientConfig {
        endpoint: format!("http://{addr}"),
        ca_file: None,
        access_key_id: AK_ID.into(),
        access_key_secret: AccessKeySecret::new(AK_SECRET),
        region_id: support::REGION.into(),
    })
    .unwrap()
    .with_timeout(Duration::from_secs(30));
    QuotaServer {
        client: Arc::new(client),
        service,
    }
}

/// Runs `n` copies of `call` at once; the successes and the error codes.
async fn at_once<F, Fut>(n: usize, call: F) -> (usize, Vec<String>)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, ClientError>> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(call(i))).collect();
    let (mut ok, mut codes) = (0, Vec::new());
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => {
                let (status, code, message, _) = api_error(e);
                if code == "Rejected.LimitExceeded" {
                    assert_eq!((status, message.as_str()), (400, LIMIT_MESSAGE));
                }
                codes.push(code);
            }
        }
    }
    (ok, codes)
}

fn all_limit(codes: &[String]) -> bool {
    codes.iter().all(|c| c == "Rejected.LimitExceeded")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_stop_at_the_key_quota() {
    let q = quota_server(Quotas {
        keys: 5,
        ..Quotas::default()
    })
    .await;
    let client = q.client.clone();
    let (ok, codes) = at_once(16, move |_| {
        let client = client.clone();
        async move { client.call("CreateKey", &[]).await }
    })
    .await;
    assert_eq!(ok, 5);
    assert!(all_limit(&codes), "{codes:?}");
    assert_eq!(q.service.list_keys(&[]).await.unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aliases_versions_and_users_stop_at_their_quotas() {
    let q = quota_server(Quotas {
        aliases_per_key: 2,
        versions_per_key: 3,
        users: 2,
        ..Quotas::default()
    })
    .await;
    let created = q.client.call("CreateKey", &[]).await.unwrap();
    let key = created["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let (client, k) = (q.client.clone(), key.clone());
    let (ok, codes) = at_once(8, move |i| {
        let (client, key) = (client.clone(), k.clone());
        async move {
            let alias = format!("alias/quota-{i}");
            let params = [("AliasName", alias.as_str()), ("KeyId", key.as_str())];
            client.call("CreateAlias", &params).await
        }
    })
    .await;
    assert_eq!(ok, 2, "{codes:?}");
    assert!(all_limit(&codes), "{codes:?}");
    let (client, k) = (q.client.clone(), key.clone());
    let (ok, codes) = at_once(8, move |_| {
        let (client, key) = (client.clone(), k.clone());
        async move { client.call("CreateKeyVersion", &[("KeyId", &key)]).await }
    })
    .await;
    // The first version counts: two more fit.
    assert_eq!(ok, 2, "{codes:?}");
    assert!(all_limit(&codes), "{codes:?}");
    let client = q.client.clone();
    let (ok, codes) = at_once(8, move |i| {
        let client = client.clone();
        async move {
            let mut req = RawRequest::new("CreateUser").param("UserName", format!("quota{i}"));
            req.version = Some(RAM.into());
            client.call_with(req).await
        }
    })
    .await;
    assert_eq!(ok, 2, "{codes:?}");
    assert!(all_limit(&codes), "{codes:?}");
    // Nothing was created beyond the quotas.
    assert_eq!(q.service.list_aliases(None).await.unwrap().len(), 2);
    let versions = q.client.call("ListKeyVersions", &[("KeyId", &key)]).await;
    assert_eq!(versions.unwrap()["TotalCount"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_stop_at_the_secret_quota() {
    let q = quota_server(Quotas {
        secrets: 3,
        ..Quotas::default()
    })
    .await;
    let client = q.client.clone();
    let (ok, codes) = at_once(12, move |i| {
        let client = client.clone();
        async move {
            let name = format!("quota/{i}");
            let params = [
                ("SecretName", name.as_str()),
                ("VersionId", "v1"),
                ("SecretData", "x"),
            ];
            client.call("CreateSecret", &params).await
        }
    })
    .await;
    assert_eq!(ok, 3);
    assert!(all_limit(&codes), "{codes:?}");
    let listed = q.client.call("ListSecrets", &[]).await.unwrap();
    assert_eq!(listed["TotalCount"], 3);
}
