//! The alias and tag actions through the codec and the engine, inside the process: repeat-list
//! indexes are canonical (`ResourceId.01` is refused, `ResourceId.1` + `ResourceId.2` both
//! act), a restricted caller is checked on every key it names, and the replies and errors are
//! byte for byte those of the older per-action table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use openkms_api::action::Action;
use openkms_api::codec::{self, Exchange, KMS_VERSION};
use openkms_api::rpc::reply::{self, Rendered};
use openkms_api::rpc::{Format, Params, RpcError};
use openkms_core::model::{KeySpec, KeyUsage, Origin as KeyOrigin, PolicyType, ProtectionLevel};
use openkms_core::service::{CreateKeyInput, NewUser};
use openkms_core::{
    KeyRef, KeyService, KmsError, OsRandom, RootKey, ServiceConfig, SystemClock, Tag,
};
use openkms_ops::{AuditEvent, Caller, Engine, Origin};
use openkms_store_sqlite::SqliteStore;

const ACCOUNT: &str = "1234567890123456";
const REQUEST_ID: &str = "req-1";

struct World {
    engine: Engine,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
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
    World {
        engine: Engine::new(Arc::new(svc)),
        _dir: dir,
    }
}

fn root() -> Caller {
    Caller {
        access_key_id: "root-ak".into(),
        user: "root".into(),
    }
}

fn params(pairs: &[(&str, &str)]) -> Params {
    let pairs = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into()));
    Params::from_pairs(pairs.collect())
}

impl World {
    fn svc(&self) -> &KeyService {
        self.engine.kms()
    }

    async fn key(&self) -> String {
        let input = CreateKeyInput {
            description: String::new(),
            spec: KeySpec::AliyunAes256,
            usage: KeyUsage::EncryptDecrypt,
            origin: KeyOrigin::AliyunKms,
            protection_level: ProtectionLevel::Software,
            rotation_interval: None,
            tags: Vec::new(),
            policy: None,
        };
        self.svc().create_key(input).await.unwrap().key_id
    }

    async fn tags(&self, key_id: &str) -> Vec<(String, String)> {
        let tags = self.svc().list_key_tags(key_id).await.unwrap();
        tags.into_iter().map(|t| (t.key, t.value)).collect()
    }

    /// A user holding one custom policy with this statement.
    async fn user(&self, name: &str, statement: &str) -> Caller {
        let user = NewUser {
            user_name: name.into(),
            ..NewUser::default()
        };
        self.svc().create_user(user).await.unwrap();
        let doc = format!(r#"{{"Version":"1","Statement":[{statement}]}}"#);
        let policy = format!("p-{name}");
        self.svc().create_policy(&policy, &doc, "").await.unwrap();
        self.svc()
            .attach_policy(name, PolicyType::Custom, &policy)
            .await
            .unwrap();
        Caller {
            access_key_id: format!("LTAI{name}"),
            user: name.into(),
        }
    }

    /// `action` through the codec and the engine.
    async fn call(
        &self,
        caller: &Caller,
        action: &str,
        pairs: &[(&str, &str)],
        format: Format,
    ) -> Result<Rendered, RpcError> {
        let endpoint = codec::endpoint(KMS_VERSION, action).expect("served by the codec");
        let pending = endpoint.decode(&params(pairs), self.svc());
        let mut event = AuditEvent::default();
        let exchange = Exchange {
            engine: &self.engine,
            caller,
            origin: Origin {
                source_ip: None,
                secure: true,
            },
            format,
            request_id: REQUEST_ID,
            event: &mut event,
        };
        pending.run(exchange).await
    }

    /// `action` through the older per-action table, as the root identity.
    async fn old(
        &self,
        action: &str,
        pairs: &[(&str, &str)],
        format: Format,
    ) -> Result<Rendered, RpcError> {
        let action = Action::from_name(action).unwrap();
        let fields = action.run(self.svc(), &root(), &params(pairs)).await?;
        Ok(reply::success(format, action.name(), fields, REQUEST_ID))
    }
}

fn code(result: Result<Rendered, RpcError>) -> &'static str {
    result.expect_err("refused").wire().code
}

fn allow(action: &str, resource: &str) -> String {
    format!(r#"{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}"#)
}

/// The repeat-list parameters for `ResourceType` `key` followed by `more`.
fn listing<'a>(more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let base = [("RegionId", "cn-hangzhou"), ("ResourceType", "key")];
    base.iter().chain(more).copied().collect()
}

impl World {
    /// TagResources of the keys `ids` (as `ResourceId.N` pairs) with the tag `t=v`.
    async fn tag_resources(
        &self,
        caller: &Caller,
        ids: &[(&str, &str)],
    ) -> Result<Rendered, RpcError> {
        let mut pairs = listing(ids);
        pairs.extend([("Tag.1.Key", "t"), ("Tag.1.Value", "v")]);
        self.call(caller, "TagResources", &pairs, Format::Json)
            .await
    }
}

fn tagged() -> Vec<(String, String)> {
    vec![("t".to_owned(), "v".to_owned())]
}

#[tokio::test]
async fn resource_id_indexes_are_canonical_decimal() {
    let w = world().await;
    let (k1, k2) = (w.key().await, w.key().await);
    for ids in [
        vec![("ResourceId.01", k1.as_str())],
        vec![("ResourceId.+1", &k1)],
        vec![("ResourceId.1", &k1), ("ResourceId.01", &k2)],
    ] {
        let refused = w.tag_resources(&root(), &ids).await;
        assert!(
            matches!(refused, Err(RpcError::InvalidParameter("ResourceId"))),
            "{ids:?}"
        );
        assert_eq!(code(refused), "InvalidParameter");
    }
    assert!(w.tags(&k1).await.is_empty() && w.tags(&k2).await.is_empty());

    let ids = [("ResourceId.1", k1.as_str()), ("ResourceId.2", &k2)];
    let done = w.tag_resources(&root(), &ids).await;
    assert_eq!(&done.unwrap().body[..], br#"{"RequestId":"req-1"}"#);
    assert_eq!((w.tags(&k1).await, w.tags(&k2).await), (tagged(), tagged()));
}

#[tokio::test]
async fn a_restricted_caller_is_checked_on_every_key_it_names() {
    let w = world().await;
    let (mine, theirs) = (w.key().await, w.key().await);
    w.svc()
        .create_alias("alias/mine", &KeyRef::Id(mine.clone()))
        .await
        .unwrap();
    let u = w
        .user(
            "tagger",
            &allow("kms:TagResources", "acs:kms:*:*:alias/mine"),
        )
        .await;
    let one = [("ResourceId.1", "alias/mine")];
    assert!(w.tag_resources(&u, &one).await.is_ok());
    assert_eq!(w.tags(&mine).await, tagged());
    let two = [("ResourceId.1", "alias/mine"), ("ResourceId.2", &theirs)];
    assert_eq!(
        code(w.tag_resources(&u, &two).await),
        "Forbidden.NoPermission"
    );
    // An unreadable list is checked against the key container, which this caller may not use.
    let padded = [("ResourceId.01", "alias/mine")];
    assert_eq!(
        code(w.tag_resources(&u, &padded).await),
        "Forbidden.NoPermission"
    );
    assert!(w.tags(&theirs).await.is_empty());
}

/// Each request through both paths, as the root identity, in JSON and XML: the same bytes
/// or the same error.
async fn same(w: &World, action: &str, pairs: &[(&str, &str)]) {
    for format in [Format::Json, Format::Xml] {
        let new = w.call(&root(), action, pairs, format).await;
        let old = w.old(action, pairs, format).await;
        match (new, old) {
            (Ok(new), Ok(old)) => assert_eq!(new.body, old.body, "{action} {pairs:?}"),
            (Err(new), Err(old)) => {
                let (new, old) = (new.wire(), old.wire());
                let new = (new.status, new.code, new.message);
                assert_eq!(
                    new,
                    (old.status, old.code, old.message),
                    "{action} {pairs:?}"
                );
            }
            (new, old) => panic!("{action} {pairs:?}: {:?} / {:?}", new.is_ok(), old.is_ok()),
        }
    }
}

#[tokio::test]
async fn replies_and_errors_match_the_older_table() {
    let w = world().await;
    let (k1, k2) = seeded(&w).await;
    let (k1, k2) = (k1.as_str(), k2.as_str());
    let list = listing;
    same(&w, "ListResourceTags", &[("KeyId", k1)]).await;
    same(&w, "ListResourceTags", &[("KeyId", "alias/one")]).await;
    same(&w, "ListResourceTags", &[("KeyId", "no-such-key")]).await;
    same(&w, "ListResourceTags", &[]).await;
    same(&w, "ListTagResources", &list(&[])).await;
    let both = list(&[("ResourceId.2", k2), ("ResourceId.1", k1)]);
    same(&w, "ListTagResources", &both).await;
    let filtered = list(&[("ResourceId.1", k1), ("Tag.1.Key", "team")]);
    same(&w, "ListTagResources", &filtered).await;
    list_refusals(&w).await;
    refusals(&w, k1).await;
}

/// Two keys: `env=prod`, `team=core` on the first (also named `alias/one`), `env=prod` on
/// the second.
async fn seeded(w: &World) -> (String, String) {
    let (k1, k2) = (w.key().await, w.key().await);
    let tag = |key: &str, value: &str| Tag {
        key: key.into(),
        value: value.into(),
    };
    let tags = [tag("env", "prod"), tag("team", "core")];
    w.svc().tag_key(&k1, &tags).await.unwrap();
    w.svc().tag_key(&k2, &tags[..1]).await.unwrap();
    let alias = KeyRef::Id(k1.clone());
    w.svc().create_alias("alias/one", &alias).await.unwrap();
    (k1, k2)
}

/// Malformed repeat lists and unknown resources, through the three repeat-list actions.
async fn list_refusals(w: &World) {
    let list = listing;
    for bad in [
        list(&[("ResourceId.1", "no-such-key")]),
        list(&[("ResourceId.1", "alias/none")]),
        list(&[("ResourceId.1", "acs:kms:elsewhere:1:key/x")]),
        list(&[("ResourceId.1", "")]),
        list(&[("Tag.1.Key", "a"), ("Tag.2.Key", "a")]),
        list(&[("Tag.1.Name", "a")]),
        list(&[("Tag.1.Value", "a")]),
        vec![("ResourceType", "secret")],
        vec![("RegionId", "cn-hangzhou")],
    ] {
        same(w, "ListTagResources", &bad).await;
        same(w, "UntagResources", &bad).await;
        // With a tag, so that the request has one fault (of two, the parameter is now
        // named before the resource is looked up).
        let tagged: Vec<_> = bad.iter().copied().chain([("Tag.9.Key", "z")]).collect();
        same(w, "TagResources", &tagged).await;
    }
}

/// Requests every path refuses, so both can be run on the same state.
async fn refusals(w: &World, k: &str) {
    let list = listing;
    for bad in [
        list(&[("ResourceId.1", k)]),
        list(&[("ResourceId.1", k), ("Tag.1.Key", "acs:x")]),
        list(&[
            ("ResourceId.1", k),
            ("Tag.1.Key", "k"),
            ("Tag.1.Value", "a*b"),
        ]),
        list(&[
            ("ResourceId.1", k),
            ("ResourceId.2", "gone"),
            ("Tag.1.Key", "k"),
        ]),
        list(&[("ResourceId.1", k), ("Tag.1.Key", "a"), ("Tag.2.Key", "a")]),
        list(&[
            ("ResourceId.1", k),
            ("Tag.1.Key", "a"),
            ("Tag.1.Other", "a"),
        ]),
    ] {
        same(w, "TagResources", &bad).await;
        same(w, "ListTagResources", &bad).await;
    }
    let untag = list(&[("ResourceId.1", k), ("All", "maybe")]);
    same(w, "UntagResources", &untag).await;
    same(w, "TagResource", &[("KeyId", k), ("Tags", "not json")]).await;
    same(
        w,
        "TagResource",
        &[("KeyId", k), ("Tags", r#"[{"TagValue":"v"}]"#)],
    )
    .await;
    same(w, "TagResource", &[("KeyId", k)]).await;
    same(w, "TagResource", &[("KeyId", "gone"), ("Tags", "[]")]).await;
    same(w, "UntagResource", &[("KeyId", k), ("TagKeys", "{}")]).await;
    same(w, "UntagResource", &[("KeyId", "gone"), ("TagKeys", "[]")]).await;
    same(
        w,
        "CreateAlias",
        &[("AliasName", "alias/one"), ("KeyId", k)],
    )
    .await;
    same(w, "CreateAlias", &[("AliasName", "bad"), ("KeyId", k)]).await;
    same(
        w,
        "CreateAlias",
        &[("AliasName", "alias/two"), ("KeyId", "gone")],
    )
    .await;
    same(w, "CreateAlias", &[("KeyId", k)]).await;
    same(
        w,
        "UpdateAlias",
        &[("AliasName", "alias/none"), ("KeyId", k)],
    )
    .await;
    same(w, "UpdateAlias", &[("AliasName", "alias/one")]).await;
    same(w, "DeleteAlias", &[("AliasName", "alias/none")]).await;
    same(w, "DeleteAlias", &[]).await;
}

#[tokio::test]
async fn writes_reply_as_the_older_table_did() {
    let w = world().await;
    let (old, new) = (w.key().await, w.key().await);
    for (action, pairs) in [
        (
            "CreateAlias",
            vec![("AliasName", "alias/{}"), ("KeyId", "{}")],
        ),
        (
            "UpdateAlias",
            vec![("AliasName", "alias/{}"), ("KeyId", "{}")],
        ),
        (
            "TagResource",
            vec![("KeyId", "{}"), ("Tags", r#"[{"TagKey":"a"}]"#)],
        ),
        (
            "UntagResource",
            vec![("KeyId", "{}"), ("TagKeys", r#"["a"]"#)],
        ),
        ("DeleteAlias", vec![("AliasName", "alias/{}")]),
    ] {
        let fill = |key: &str| -> Vec<(String, String)> {
            let fill = |v: &str| v.replace("{}", key);
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), fill(v)))
                .collect()
        };
        let (a, b) = (fill(&old), fill(&new));
        let a: Vec<(&str, &str)> = a.iter().map(|(k, v)| (&**k, &**v)).collect();
        let b: Vec<(&str, &str)> = b.iter().map(|(k, v)| (&**k, &**v)).collect();
        let before = w.old(action, &a, Format::Xml).await.unwrap();
        let after = w.call(&root(), action, &b, Format::Xml).await.unwrap();
        assert_eq!(before.body, after.body, "{action}");
    }
    assert!(matches!(
        w.svc()
            .resolve(&KeyRef::Alias(format!("alias/{new}")))
            .await,
        Err(KmsError::AliasNotFound)
    ));
}
