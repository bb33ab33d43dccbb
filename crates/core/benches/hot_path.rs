//! Criterion micro-benchmarks of the core's share of a request: the AEAD seal and open of
//! customer data (32 B, 1 KiB, 6 KiB), and `KeyService::encrypt`/`decrypt` on warm keys —
//! the cache lookup included — with one key and with 100,000 keys in the cache.
//!
//! Run with `cargo bench -p openkms-core --bench hot_path`. The store is an in-memory map
//! (`openkms_store_tests::memory`, the one the service tests use), so no I/O is measured; once a key is warm the store is not touched anyway.
//! HTTP, parsing and rendering are measured in the api crate's benchmarks.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use openkms_core::crypto::{open_message, seal_message};
use openkms_core::service::CreateKeyInput;
use openkms_core::{
    EncryptionContext, KeyRef, KeyService, KeySpec, ManualClock, OsRandom, RootKey, SecretBytes,
    ServiceConfig,
};
use openkms_store_tests::memory::MemoryStore as MemStore;
use tokio::runtime::Runtime;

/// Plaintext sizes of issue 6: the smallest common secret, 1 KiB, the 6 KiB maximum.
const SIZES: [usize; 3] = [32, 1024, 6144];
/// Keys in the large cache.
const MANY_KEYS: usize = 100_000;

fn aead(c: &mut Criterion) {
    let spec = KeySpec::AliyunAes256;
    let material = SecretBytes::new((0..32).collect());
    let (salt, nonce, aad) = ([7u8; 12], [9u8; 12], b"{\"app\":\"bench\"}");
    let mut group = c.benchmark_group("aead");
    for size in SIZES {
        let plaintext = vec![0x5a; size];
        let sealed =
            seal_message(spec, &material, &salt, &nonce, aad, &plaintext).expect("seal works");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("seal", size), &plaintext, |b, p| {
            b.iter(|| seal_message(spec, &material, &salt, &nonce, aad, black_box(p)))
        });
        group.bench_with_input(BenchmarkId::new("open", size), &sealed, |b, s| {
            b.iter(|| open_message(spec, &material, &salt, &nonce, aad, black_box(s)))
        });
    }
    group.finish();
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

fn key_input() -> CreateKeyInput {
    CreateKeyInput {
        description: "bench".into(),
        ..CreateKeyInput::of_spec(KeySpec::AliyunAes256)
    }
}

/// A service over an empty in-memory store, with `keys` keys created and warmed (each used
/// once, so its record and unwrapped material are in the cache).
fn warm_service(rt: &Runtime, keys: usize) -> (KeyService, Vec<KeyRef>) {
    rt.block_on(async {
        let root = RootKey::generate(&OsRandom::new());
        let config = ServiceConfig {
            region_id: "cn-hangzhou".into(),
            account_id: Some("1234567890123456".into()),
            cache_ttl_ms: None,
        };
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        let svc = KeyService::open(
            Arc::new(MemStore::default()),
            root,
            clock,
            Arc::new(OsRandom::new()),
            config,
        )
        .await
        .expect("the service opens");
        let mut refs = Vec::with_capacity(keys);
        let ctx = EncryptionContext::empty();
        for _ in 0..keys {
            let key = svc.create_key(key_input()).await.expect("create_key");
            let r = KeyRef::Id(key.key_id);
            svc.encrypt(&r, b"warm", &ctx)
                .await
                .expect("warm-up encrypt");
            refs.push(r);
        }
        (svc, refs)
    })
}

fn key_service(c: &mut Criterion) {
    let rt = runtime();
    let ctx = EncryptionContext::empty();
    let plaintext = [0x5a; 32];
    let mut group = c.benchmark_group("key_service");
    for keys in [1, MANY_KEYS] {
        let (svc, refs) = warm_service(&rt, keys);
        let mut i = 0usize;
        group.bench_function(
            BenchmarkId::new("encrypt_32B_warm", format!("{keys}_keys")),
            |b| {
                b.iter(|| {
                    i = (i + 7919) % refs.len();
                    rt.block_on(svc.encrypt(&refs[i], black_box(&plaintext), &ctx))
                })
            },
        );
        let blobs: Vec<Vec<u8>> = refs
            .iter()
            .take(1000)
            .map(|r| {
                rt.block_on(svc.encrypt(r, &plaintext, &ctx))
                    .expect("encrypt")
                    .blob
            })
            .collect();
        let mut j = 0usize;
        group.bench_function(
            BenchmarkId::new("decrypt_32B_warm", format!("{keys}_keys")),
            |b| {
                b.iter(|| {
                    j = (j + 1) % blobs.len();
                    rt.block_on(svc.decrypt(black_box(&blobs[j]), &ctx))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, aead, key_service);
criterion_main!(benches);
