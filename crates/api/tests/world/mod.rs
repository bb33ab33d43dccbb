//! What the in-process codec-and-engine tests share (authorization.rs, tag_lists.rs): a key
//! service over SQLite in a temporary directory for the account [`ACCOUNT`], the engine over
//! it, keys made directly, RAM users holding one custom policy, and a policy statement.
//!
//! Not here: how a test drives the codec (running or only checking a request); each test
//! file says that. The server tests have their own support (support/mod.rs).

use std::sync::Arc;

use openkms_core::model::{KeySpec, KeyUsage, Origin as KeyOrigin, PolicyType, ProtectionLevel};
use openkms_core::service::{CreateKeyInput, NewUser};
use openkms_core::{KeyRef, KeyService, OsRandom, RootKey, ServiceConfig, SystemClock};
use openkms_ops::{Caller, Engine};
use openkms_store_sqlite::SqliteStore;

/// The account every world's service belongs to.
pub const ACCOUNT: &str = "1234567890123456";

/// A key service in a temporary directory and the engine over it.
pub struct World {
    /// The key service, to set up keys, users and policies directly.
    pub svc: Arc<KeyService>,
    /// The engine the codec runs requests through.
    pub engine: Engine,
    _dir: tempfile::TempDir,
}

/// A new world: an empty SQLite store, a fresh root key, region `cn-hangzhou`.
pub async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("db")).unwrap());
    let rng = Arc::new(OsRandom::new());
    let root = RootKey::generate(rng.as_ref());
    let config = ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: Some(ACCOUNT.into()),
        cache_ttl_ms: None,
    };
    let svc = KeyService::open(store, root, Arc::new(SystemClock), rng, config)
        .await
        .unwrap();
    let svc = Arc::new(svc);
    World {
        engine: Engine::new(svc.clone()),
        svc,
        _dir: dir,
    }
}

impl World {
    /// A new enabled AES-256 key with this key policy, named by `alias` when given; its id.
    pub async fn key(&self, alias: Option<&str>, policy: Option<String>) -> String {
        let input = CreateKeyInput {
            description: String::new(),
            spec: KeySpec::AliyunAes256,
            usage: KeyUsage::EncryptDecrypt,
            origin: KeyOrigin::AliyunKms,
            protection_level: ProtectionLevel::Software,
            rotation_interval: None,
            tags: Vec::new(),
            policy,
        };
        let id = self.svc.create_key(input).await.unwrap().key_id;
        if let Some(alias) = alias {
            self.svc
                .create_alias(alias, &KeyRef::Id(id.clone()))
                .await
                .unwrap();
        }
        id
    }

    /// A user holding one custom policy with these statements (none when empty).
    pub async fn user(&self, name: &str, statements: &str) -> Caller {
        let user = NewUser {
            user_name: name.into(),
            ..NewUser::default()
        };
        self.svc.create_user(user).await.unwrap();
        if !statements.is_empty() {
            let doc = format!(r#"{{"Version":"1","Statement":[{statements}]}}"#);
            let policy = format!("p-{name}");
            self.svc.create_policy(&policy, &doc, "").await.unwrap();
            self.svc
                .attach_policy(name, PolicyType::Custom, &policy)
                .await
                .unwrap();
        }
        Caller {
            access_key_id: format!("LTAI{name}"),
            user: name.into(),
        }
    }
}

/// A statement allowing `action` on `resource`.
pub fn allow(action: &str, resource: &str) -> String {
    format!(r#"{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}"#)
}
