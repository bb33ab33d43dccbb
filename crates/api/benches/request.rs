//! Criterion micro-benchmarks of the api crate's share of one Encrypt request: parameter
//! parsing, the V1 signature check (StringToSign + HMAC-SHA1, alone and inside the whole
//! authentication with its clock window, credential cache and nonce set), the Encrypt action
//! on a warm key (the codec's decode, the engine's run and the typed reply: key reference,
//! context, seal, base64, JSON), taking the engine from the service slot (what the seal costs
//! a request), response rendering, and the RequestId.
//!
//! Run with `cargo bench -p openkms-api --bench request`. The requests are built and signed
//! by `openkms-client`, byte for byte what the CLI and `openkms bench` send. No sockets, TLS
//! or HTTP framing are measured here: `openkms bench` measures those, end to end.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use openkms_api::auth::{Authenticator, Caller, RequestView};
use openkms_api::codec::{self, Exchange, KMS_VERSION};
use openkms_api::rpc::Params;
use openkms_api::rpc::reply::{self, Format};
use openkms_api::rpc::request_id::RequestIds;
use openkms_api::slot::ServiceSlot;
use openkms_client::{AccessKeySecret, Client, ClientConfig, RawRequest};
use openkms_core::service::{CreateKeyInput, RootAccessKey};
use openkms_core::{
    KeyService, KeySpec, KeyUsage, Origin as KeyOrigin, OsRandom, ProtectionLevel, RootKey,
    SecretBytes, ServiceConfig, SystemClock,
};
use openkms_ops::{AuditEvent, Engine, Origin};
use openkms_sign::{V1SigningKey, v1_string_to_sign, v1_verify};
use openkms_store_sqlite::SqliteStore;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

const AK_ID: &str = "LTAIbenchbenchbench0";
const AK_SECRET: &str = "benchsecretbenchsecretbenchsec";

/// The client that signs the benchmark's requests (it never connects).
fn signer() -> Client {
    Client::new(ClientConfig {
        endpoint: "http://127.0.0.1:1".into(),
        ca_file: None,
        access_key_id: AK_ID.into(),
        access_key_secret: AccessKeySecret::new(AK_SECRET),
        region_id: "cn-hangzhou".into(),
    })
    .expect("a signing client")
}

/// The query string of a freshly signed Encrypt of `size` bytes under `key_id`.
fn encrypt_query(client: &Client, key_id: &str, size: usize) -> String {
    let req = RawRequest::new("Encrypt").param("KeyId", key_id).param(
        "Plaintext",
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3".repeat(size / 40 + 1)[..size].to_owned(),
    );
    let prepared = client.prepare(req).expect("signing works");
    prepared.path_and_query.trim_start_matches("/?").to_owned()
}

fn parsing(c: &mut Criterion) {
    let client = signer();
    let mut group = c.benchmark_group("params_parse");
    for size in [32, 1024, 6144] {
        let query = encrypt_query(&client, "key-id-0000", size);
        group.bench_with_input(BenchmarkId::new("encrypt_query", size), &query, |b, q| {
            b.iter(|| Params::parse(Some(black_box(q)), None))
        });
    }
    group.finish();
}

fn signature(c: &mut Criterion) {
    let client = signer();
    let params = Params::parse(Some(&encrypt_query(&client, "key-id-0000", 32)), None);
    let signature = params.get("Signature").expect("signed").to_owned();
    let pairs = || params.pairs();
    let sts = v1_string_to_sign("POST", pairs());
    let kept = V1SigningKey::new(AK_SECRET.as_bytes());
    let mut group = c.benchmark_group("signature_v1_encrypt_32B");
    group.bench_function("string_to_sign", |b| {
        b.iter(|| v1_string_to_sign("POST", black_box(pairs())))
    });
    group.bench_function("hmac_verify_key_per_call", |b| {
        b.iter(|| v1_verify(AK_SECRET.as_bytes(), black_box(&sts), &signature))
    });
    group.bench_function("hmac_verify_kept_key", |b| {
        b.iter(|| kept.verify(black_box(&sts), &signature))
    });
    group.bench_function("string_to_sign_and_verify", |b| {
        b.iter(|| {
            let sts = v1_string_to_sign("POST", black_box(pairs()));
            v1_verify(AK_SECRET.as_bytes(), &sts, &signature)
        })
    });
    group.finish();
}

/// A key service over SQLite in a temporary directory, with the bench AccessKey and one
/// key, used once so that it is warm.
fn service(rt: &Runtime, dir: &tempfile::TempDir) -> (Arc<KeyService>, String) {
    rt.block_on(async {
        let store =
            Arc::new(SqliteStore::open(&dir.path().join("bench.db")).expect("sqlite opens"));
        let config = ServiceConfig {
            region_id: "cn-hangzhou".into(),
            account_id: None,
            cache_ttl_ms: None,
        };
        let root = RootKey::generate(&OsRandom::new());
        let svc = KeyService::open(
            store,
            root,
            Arc::new(SystemClock),
            Arc::new(OsRandom::new()),
            config,
        )
        .await
        .expect("the service opens");
        let ak = RootAccessKey {
            access_key_id: AK_ID.into(),
            secret: SecretBytes::new(AK_SECRET.into()),
        };
        svc.ensure_root_access_key(&ak)
            .await
            .expect("root AccessKey");
        let input = CreateKeyInput {
            description: "bench".into(),
            spec: KeySpec::AliyunAes256,
            usage: KeyUsage::EncryptDecrypt,
            origin: KeyOrigin::AliyunKms,
            protection_level: ProtectionLevel::Software,
            rotation_interval: None,
            tags: vec![],
            policy: None,
        };
        let key = svc.create_key(input).await.expect("create_key").key_id;
        (Arc::new(svc), key)
    })
}

fn authentication_and_action(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let (svc, key_id) = service(&rt, &dir);
    let client = signer();
    let auth = Authenticator::default();
    let headers = HeaderMap::new();
    let fresh = || Params::parse(Some(&encrypt_query(&client, &key_id, 32)), None);
    let warm = fresh();
    let root = Caller {
        access_key_id: "bench".into(),
        user: openkms_core::service::ROOT_USER.into(),
    };
    let engine = Engine::new(svc.clone());
    let encrypt = || {
        let endpoint = codec::endpoint(KMS_VERSION, "Encrypt").expect("served");
        let pending = endpoint.decode(black_box(&warm), &svc);
        let mut event = AuditEvent::default();
        let exchange = Exchange {
            engine: &engine,
            params: &warm,
            caller: &root,
            origin: Origin {
                source_ip: None,
                secure: true,
            },
            format: Format::Json,
            request_id: "6F2F7A52-2C8B-4E5F-9A61-0F7B3C9D2E11",
            event: &mut event,
        };
        rt.block_on(pending.run(exchange))
    };
    encrypt().expect("Encrypt works");
    let mut group = c.benchmark_group("request_32B");
    group.bench_function("authenticate_fresh_nonce", |b| {
        b.iter_batched(
            fresh,
            |p| {
                let view = RequestView {
                    method: "POST",
                    params: &p,
                    headers: &headers,
                    body: b"",
                };
                rt.block_on(auth.authenticate(&svc, view)).map(|_| ())
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("encrypt_action_warm_key", |b| b.iter(encrypt));
    // What every request pays for the seal: taking its own reference to the engine from the
    // slot (one atomic load and a reference count), and dropping it.
    let slot = ServiceSlot::unsealed(svc.clone());
    group.bench_function("service_slot_load", |b| b.iter(|| slot.engine()));
    group.finish();
}

fn rendering(c: &mut Criterion) {
    let Value::Object(fields) = json!({
        "KeyId": "0b6b9a2e-7b7c-4f33-9d55-2f9a4c1d7e01",
        "KeyVersionId": "5e1c0c2a-1f9b-4f0e-8a51-8a1f0f6f2b3c",
        "CiphertextBlob": "NWUxYzBjMmEtMWY5Yi00ZjBlLThhNTEtOGExZjBmNmYyYjNjAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }) else {
        return;
    };
    let mut group = c.benchmark_group("reply");
    group.bench_function("success_encrypt_json", |b| {
        b.iter_batched(
            || fields.clone(),
            |f| {
                reply::typed(
                    Format::Json,
                    "Encrypt",
                    &f,
                    "6F2F7A52-2C8B-4E5F-9A61-0F7B3C9D2E11",
                )
            },
            BatchSize::SmallInput,
        )
    });
    let ids = RequestIds::default();
    group.bench_function("request_id", |b| b.iter(|| ids.next_id()));
    group.finish();
}

criterion_group!(
    benches,
    parsing,
    signature,
    authentication_and_action,
    rendering
);
criterion_main!(benches);
