//! The Shamir seal through the real server path, in process: a sealed server answers the
//! sealed 503 and `/readyz` 503; `init` splits the root key and leaves it sealed; shares
//! unseal it one by one while wrong, foreign, malformed and repeated ones are refused without
//! losing progress; a RAM user cannot seal it, the root AccessKey can, and sealing drops the
//! key service (no reference survives); another threshold of shares unseals it again and old
//! ciphertext decrypts; init needs the node's init token, whose file it removes; refused init
//! and unseal requests are throttled per source, accepted ones never; an operator body that
//! stalls is cut off at the body deadline; init and unseal lines are never left out of the
//! audit log by a flood.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use openkms_api::audit::{AuditConfig, AuditLog};
use openkms_api::operator::{InitToken, OpenError, Opener, Operator};
use openkms_api::slot::ServiceSlot;
use openkms_api::{App, ServerOptions};
use openkms_client::{
    AccessKeySecret, Client, ClientConfig, ClientError, HttpMethod, RawRequest, RawResponse,
};
use openkms_core::{KeyService, OsRandom, RootKey, SecretBytes, ServiceConfig, Store, SystemClock};
use openkms_store_sqlite::SqliteStore;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

const REGION: &str = "cn-hangzhou";
/// The init token every test server is given.
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

struct TestOpener(Arc<dyn Store>);

impl Opener for TestOpener {
    fn open(&self, root: RootKey) -> BoxFuture<'_, Result<Arc<KeyService>, OpenError>> {
        Box::pin(async move {
            let config = ServiceConfig {
                region_id: REGION.into(),
                account_id: None,
                cache_ttl_ms: None,
            };
            let rng = Arc::new(OsRandom::new());
            let service =
                KeyService::open(self.0.clone(), root, Arc::new(SystemClock), rng, config).await?;
            Ok(Arc::new(service))
        })
    }
}

/// A sealed server over a fresh SQLite store, with its slot and an unsigned client.
struct Sealed {
    addr: SocketAddr,
    slot: Arc<ServiceSlot>,
    plain: Client,
    _stop: oneshot::Sender<()>,
    dir: tempfile::TempDir,
}

async fn start() -> Sealed {
    start_custom(|app| app).await
}

/// A sealed server whose init token is [`TOKEN`], also written to `<dir>/init-token`.
async fn start_custom(configure: impl FnOnce(App) -> App) -> Sealed {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("openkms.db")).unwrap());
    let slot = Arc::new(ServiceSlot::sealed());
    let opener = Arc::new(TestOpener(store.clone()));
    let token_file = dir.path().join("init-token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let token = InitToken::new(SecretBytes::new(TOKEN.into()), Some(token_file));
    let operator = Operator::new(slot.clone(), store, opener, Arc::new(OsRandom::new()))
        .with_init_token(token);
    let app = App::over_slot(slot.clone(), REGION, 64 * 1024)
        .over_tls(false)
        .with_operator(Arc::new(operator));
    let app = configure(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    tokio::spawn(openkms_api::serve(
        listener,
        Arc::new(app),
        ServerOptions::default(),
        shutdown,
    ));
    let plain = Client::unsigned(&format!("http://{addr}"), None)
        .unwrap()
        .with_timeout(Duration::from_secs(20));
    Sealed {
        addr,
        slot,
        plain,
        _stop: stop,
        dir,
    }
}

impl Sealed {
    async fn op(&self, method: HttpMethod, name: &str, body: Option<Value>) -> RawResponse {
        let body = body.map(|b| b.to_string().into_bytes());
        self.plain
            .send_json(method, &format!("/openkms/operator/{name}"), body)
            .await
            .unwrap()
    }

    async fn init(&self, shares: u32, threshold: u32) -> Result<Value, ClientError> {
        let body = json!({ "Shares": shares, "Threshold": threshold, "InitToken": TOKEN });
        self.op(HttpMethod::Post, "init", Some(body))
            .await
            .into_result()
    }

    async fn status(&self) -> Value {
        self.op(HttpMethod::Get, "status", None)
            .await
            .into_result()
            .unwrap()
    }

    async fn unseal(&self, share: &str) -> Result<Value, ClientError> {
        let body = json!({ "Share": share });
        self.op(HttpMethod::Post, "unseal", Some(body))
            .await
            .into_result()
    }

    fn signed(&self, id: &str, secret: &str) -> Client {
        Client::new(ClientConfig {
            endpoint: format!("http://{}", self.addr),
            ca_file: None,
            access_key_id: id.into(),
            access_key_secret: AccessKeySecret::new(secret),
            region_id: REGION.into(),
        })
        .unwrap()
    }

    async fn seal_as(&self, client: &Client) -> Result<Value, ClientError> {
        let prepared = client.prepare(RawRequest::new("OperatorSeal")).unwrap();
        client
            .send_to("/openkms/operator/seal", &prepared)
            .await
            .unwrap()
            .into_result()
    }

    async fn readyz(&self) -> u16 {
        let r = self
            .plain
            .send_json(HttpMethod::Get, "/readyz", None)
            .await
            .unwrap();
        r.status
    }
}

fn code(result: Result<Value, ClientError>) -> (u16, String) {
    match result {
        Err(ClientError::Api {
            status,
            code,
            request_id,
            ..
        }) => {
            assert_eq!(request_id.len(), 36, "every error has a RequestId");
            (status, code)
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn progress(status: &Value) -> (bool, u64) {
    (
        status["Sealed"].as_bool().unwrap(),
        status["Progress"].as_u64().unwrap(),
    )
}

/// The same share with one base64url character of its value changed.
fn altered(share: &str) -> String {
    let mut bytes = share.as_bytes().to_vec();
    let at = bytes.len() - 3;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn sealed_unseal_seal_unseal_again() {
    let server = start().await;
    let status = server.status().await;
    assert_eq!(status["Initialized"], false);
    assert_eq!(status["Sealed"], true);
    assert_eq!(server.readyz().await, 503);
    // Unseal before init: refused, clearly.
    let (s, c) = code(server.unseal("okms1-AAAA").await);
    assert_eq!((s, c.as_str()), (400, "OperatorNotInitialized"));
    // Any API request: the retryable sealed 503.
    let anyone = server.signed("LTAIsomeone", "whatever-secret-000");
    let (s, c) = code(anyone.call("CreateKey", &[]).await);
    assert_eq!((s, c.as_str()), (503, "ServiceUnavailableTemporary"));

    assert_eq!(
        code(server.init(3, 1).await),
        (400, "InvalidParameter".to_owned())
    );
    // Without the init token, or with another, nobody initialises the store.
    let token_file = server.dir.path().join("init-token");
    for body in [
        json!({ "Shares": 5, "Threshold": 3 }),
        json!({ "Shares": 5, "Threshold": 3, "InitToken": "" }),
        json!({ "Shares": 5, "Threshold": 3, "InitToken": TOKEN.replace('0', "1") }),
    ] {
        let r = server.op(HttpMethod::Post, "init", Some(body)).await;
        assert_eq!(code(r.into_result()), (403, "InvalidInitToken".to_owned()));
    }
    assert_eq!(server.status().await["Initialized"], false);
    assert!(token_file.exists());
    let made = server.init(5, 3).await.unwrap();
    assert!(
        !token_file.exists(),
        "the init token file is removed at init"
    );
    let shares: Vec<String> = serde_json::from_value(made["Shares"].clone()).unwrap();
    assert_eq!(shares.len(), 5);
    let (ak, secret) = (
        made["AccessKeyId"].as_str().unwrap(),
        made["AccessKeySecret"].as_str().unwrap(),
    );
    let again = server.init(5, 3).await;
    assert_eq!(code(again), (409, "OperatorAlreadyInitialized".to_owned()));
    let status = server.status().await;
    assert_eq!(
        (status["Threshold"].as_u64(), status["Shares"].as_u64()),
        (Some(3), Some(5))
    );
    assert_eq!(
        progress(&status),
        (true, 0),
        "init leaves the server sealed"
    );
    let root = server.signed(ak, secret);
    assert_eq!(code(root.call("CreateKey", &[]).await).0, 503);

    // One good share, then every kind of bad one: refused, progress kept.
    assert_eq!(
        progress(&server.unseal(&shares[0]).await.unwrap()),
        (true, 1)
    );
    let foreign = {
        let other = start().await;
        let made = other.init(2, 2).await.unwrap();
        made["Shares"][0].as_str().unwrap().to_owned()
    };
    for (share, expected) in [
        (altered(&shares[1]), "InvalidShare.Mismatch"),
        (foreign, "InvalidShare.OtherInitialization"),
        ("okms1-not-a-share".to_owned(), "InvalidShare.Malformed"),
        (shares[0].clone(), "InvalidShare.Repeated"),
    ] {
        let (s, c) = code(server.unseal(&share).await);
        assert_eq!((s, c.as_str()), (400, expected));
    }
    let not_json = server
        .op(HttpMethod::Post, "unseal", Some(json!({"Shard": "x"})))
        .await;
    assert_eq!(code(not_json.into_result()).1, "InvalidParameter");
    assert_eq!(
        progress(&server.status().await),
        (true, 1),
        "no progress lost"
    );
    assert_eq!(
        progress(&server.unseal(&shares[2]).await.unwrap()),
        (true, 2)
    );
    assert_eq!(
        progress(&server.unseal(&shares[4]).await.unwrap()),
        (false, 0)
    );
    assert_eq!(server.readyz().await, 200);

    // Unsealed: the root AccessKey printed at init works.
    let key = root.call("CreateKey", &[]).await.unwrap();
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let sealed_blob = root
        .call(
            "Encrypt",
            &[("KeyId", key_id.as_str()), ("Plaintext", "aGVsbG8=")],
        )
        .await
        .unwrap()["CiphertextBlob"]
        .as_str()
        .unwrap()
        .to_owned();

    // A RAM user may not seal; the root AccessKey may.
    let ram = |action: &str| {
        let mut r = RawRequest::new(action).param("UserName", "alice");
        r.version = Some("2015-05-01".into());
        r
    };
    root.call_with(ram("CreateUser")).await.unwrap();
    let pair = root.call_with(ram("CreateAccessKey")).await.unwrap();
    let alice = server.signed(
        pair["AccessKey"]["AccessKeyId"].as_str().unwrap(),
        pair["AccessKey"]["AccessKeySecret"].as_str().unwrap(),
    );
    assert_eq!(
        code(server.seal_as(&alice).await),
        (403, "Forbidden.NoPermission".to_owned())
    );
    let forged = server.signed(ak, "not-the-root-secret-0000");
    assert_eq!(
        code(server.seal_as(&forged).await).1,
        "SignatureDoesNotMatch"
    );
    assert!(!server.slot.is_sealed());

    let service = Arc::downgrade(&server.slot.service().unwrap());
    assert_eq!(progress(&server.seal_as(&root).await.unwrap()), (true, 0));
    assert!(
        service.upgrade().is_none(),
        "the key service (and its root key) is gone"
    );
    assert_eq!(server.readyz().await, 503);
    assert_eq!(code(root.call("CreateKey", &[]).await).0, 503);

    // Another three of the five unseal it again; the old ciphertext decrypts.
    for share in [&shares[1], &shares[3]] {
        assert!(progress(&server.unseal(share).await.unwrap()).0);
    }
    assert_eq!(
        progress(&server.unseal(&shares[0]).await.unwrap()),
        (false, 0)
    );
    let plain = root
        .call("Decrypt", &[("CiphertextBlob", sealed_blob.as_str())])
        .await
        .unwrap();
    assert_eq!(plain["Plaintext"], "aGVsbG8=");
}

/// Sends unseal guesses until the source is throttled; how many were answered first.
async fn spend_refusals(server: &Sealed, refused: &str) -> usize {
    for i in 0..40 {
        match server.unseal("okms1-guess").await {
            Err(ClientError::Api { code, .. }) if code == "Throttling" => return i,
            Err(ClientError::Api { code, .. }) => assert_eq!(code, refused),
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("not throttled within 40 refused attempts");
}

#[tokio::test]
async fn refused_requests_are_throttled_per_source_accepted_ones_never() {
    let server = start().await;
    let at = spend_refusals(&server, "OperatorNotInitialized").await;
    assert!(at >= 20, "not before the burst: {at}");
    let wrong = json!({ "Shares": 40, "Threshold": 40, "InitToken": "guess" });
    let r = server.op(HttpMethod::Post, "init", Some(wrong)).await;
    assert_eq!(
        code(r.into_result()).1,
        "Throttling",
        "a refused init token shares the source's budget"
    );
    // Status is not throttled; neither is the right init token, nor any valid share.
    assert_eq!(server.status().await["Initialized"], false);
    let made = server.init(40, 40).await.unwrap();
    let shares: Vec<String> = serde_json::from_value(made["Shares"].clone()).unwrap();
    assert_eq!(spend_refusals(&server, "InvalidShare.Malformed").await, 0);
    for (i, share) in shares.iter().enumerate() {
        let status = server.unseal(share).await.unwrap();
        assert_eq!(progress(&status).1, if i == 39 { 0 } else { i as u64 + 1 });
    }
    assert!(
        !server.slot.is_sealed(),
        "40 valid shares unseal a throttled source"
    );
}

#[tokio::test]
async fn an_operator_body_that_stalls_is_cut_off_at_the_body_deadline() {
    let server = start_custom(|app| app.with_body_deadline(Duration::from_millis(300))).await;
    for name in ["init", "unseal"] {
        let mut conn = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "POST /openkms/operator/{name} HTTP/1.1\r\nhost: x\r\n\
             content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"Sh"
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut reply = Vec::new();
        // Guards against a hang only: the server answers after 300 ms.
        let read = tokio::time::timeout(Duration::from_secs(20), conn.read_to_end(&mut reply));
        read.await
            .unwrap_or_else(|_| panic!("{name}: a stalled body holds the connection"))
            .unwrap();
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with("HTTP/1.1 408"), "{name}: {reply}");
        assert!(
            reply.contains(r#""Code":"RequestTimeout""#),
            "{name}: {reply}"
        );
    }
}

/// A sealed server auditing to `path` with a flood budget of one unauthenticated line a second.
async fn start_audited(path: &std::path::Path) -> Sealed {
    let config = AuditConfig {
        unauthenticated_per_second: 1,
        ..AuditConfig::new(path)
    };
    let log = AuditLog::open(&config).unwrap();
    start_custom(|app| app.with_audit(log)).await
}

#[tokio::test]
async fn init_and_unseal_lines_are_written_whatever_the_flood() {
    let audit_dir = tempfile::tempdir().unwrap();
    let path = audit_dir.path().join("audit.log");
    let server = start_audited(&path).await;
    for _ in 0..20 {
        server.status().await;
    }
    let made = server.init(2, 2).await.unwrap();
    server
        .unseal(made["Shares"][0].as_str().unwrap())
        .await
        .unwrap();
    server.unseal("okms1-guess").await.unwrap_err();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let written = |action: &str, outcome: &str| {
        lines.iter().any(|l| {
            l.to_string().contains(&format!("\"{action}\""))
                && l.to_string().contains(&format!("\"{outcome}\""))
        })
    };
    assert!(written("OperatorInit", "OK"), "{text}");
    assert!(written("OperatorUnseal", "OK"), "{text}");
    assert!(
        written("OperatorUnseal", "InvalidShare.Malformed"),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "the init token is never in the log");
}

/// An unauthenticated seal request (a wrong signature) is no ceremony step: on an unsealed
/// node a flood of them stays under the flood budget instead of filling the audit volume.
#[tokio::test]
async fn unauthenticated_seal_requests_stay_under_the_flood_budget() {
    let audit_dir = tempfile::tempdir().unwrap();
    let path = audit_dir.path().join("audit.log");
    let server = start_audited(&path).await;
    let made = server.init(1, 1).await.unwrap();
    server
        .unseal(made["Shares"][0].as_str().unwrap())
        .await
        .unwrap();
    let stranger = server.signed("LTAI00000000000000000000", "not-the-secret-of-anyone");
    for _ in 0..40 {
        assert!(server.seal_as(&stranger).await.is_err());
    }
    assert!(!progress(&server.status().await).0, "still unsealed");
    let text = std::fs::read_to_string(&path).unwrap();
    let seal_lines = text
        .lines()
        .filter(|l| l.contains("\"OperatorSeal\""))
        .count();
    assert!(
        seal_lines < 10,
        "{seal_lines} seal lines written one by one:\n{text}"
    );
}
