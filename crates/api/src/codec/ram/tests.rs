//! The RAM codecs against the older per-action path they replace: the same parameter
//! tables, and byte-identical replies (JSON and XML) and errors for the same requests on
//! the same data, for the root identity and for a RAM user.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use openkms_core::model::PolicyType;
use openkms_core::service::NewUser;
use openkms_core::{KeyService, OsRandom, RootKey, ServiceConfig, SystemClock};
use openkms_ops::{AuditEvent, Caller, Engine, Origin};
use openkms_store_sqlite::SqliteStore;

use crate::action::Action;
use crate::authz;
use crate::codec::{Exchange, RAM_VERSION, endpoint};
use crate::rpc::reply::{self, Format};
use crate::rpc::{Params, RpcError};

const ORIGIN: Origin = Origin {
    source_ip: None,
    secure: true,
};

struct World {
    engine: Engine,
    _dir: tempfile::TempDir,
}

impl World {
    fn svc(&self) -> &KeyService {
        self.engine.kms()
    }
}

/// Users alice (every field, an AccessKey, a custom and a system policy) and bob.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("db")).unwrap());
    let rng = Arc::new(OsRandom::new());
    let root = RootKey::generate(rng.as_ref());
    let config = ServiceConfig {
        region_id: "cn-hangzhou".into(),
        account_id: Some("1234567890123456".into()),
        cache_ttl_ms: None,
    };
    let svc = KeyService::open(store, root, Arc::new(SystemClock), rng, config);
    let w = World {
        engine: Engine::new(Arc::new(svc.await.unwrap())),
        _dir: dir,
    };
    let s = w.svc();
    let alice = NewUser {
        user_name: "alice".into(),
        display_name: "Alice".into(),
        mobile_phone: "86-123".into(),
        email: "a@example.com".into(),
        comments: "<&>\"".into(),
    };
    s.create_user(alice).await.unwrap();
    s.create_user(named("bob")).await.unwrap();
    let doc = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:Get*","Resource":"acs:ram:*:*:user/bob"}]}"#;
    s.create_policy("p1", doc, "mine").await.unwrap();
    s.attach_policy("alice", PolicyType::Custom, "p1")
        .await
        .unwrap();
    let system = "AliyunRAMReadOnlyAccess";
    s.attach_policy("alice", PolicyType::System, system)
        .await
        .unwrap();
    s.create_access_key("alice").await.unwrap();
    w
}

fn named(name: &str) -> NewUser {
    NewUser {
        user_name: name.into(),
        ..NewUser::default()
    }
}

fn root() -> Caller {
    caller(openkms_core::service::ROOT_USER)
}

fn caller(user: &str) -> Caller {
    Caller {
        access_key_id: "LTAI-test".into(),
        user: user.into(),
    }
}

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

/// A reply's status and body, or an error's status, code and message.
type Outcome = Result<(u16, Vec<u8>), (u16, &'static str, String)>;

fn outcome(r: Result<reply::Rendered, RpcError>) -> Outcome {
    match r {
        Ok(r) => Ok((r.status, r.body.to_vec())),
        Err(e) => {
            let w = e.wire();
            Err((w.status, w.code, w.message))
        }
    }
}

async fn by_old(w: &World, who: &Caller, action: &str, p: &Params, f: Format) -> Outcome {
    let action = Action::from_name(action).unwrap();
    let run = async {
        let pins = authz::authorize(w.svc(), who, action, p, ORIGIN).await?;
        assert!(pins.is_empty());
        let fields = action.run(w.svc(), who, p).await?;
        Ok(reply::success(f, action.name(), fields, "req"))
    };
    outcome(run.await)
}

async fn by_codec(w: &World, who: &Caller, action: &str, p: &Params, f: Format) -> Outcome {
    let pending = endpoint(RAM_VERSION, action).unwrap().decode(p, w.svc());
    let mut event = AuditEvent::default();
    let exchange = Exchange {
        engine: &w.engine,
        caller: who,
        origin: ORIGIN,
        format: f,
        request_id: "req",
        event: &mut event,
    };
    let out = outcome(pending.run(exchange).await);
    assert_eq!(event, AuditEvent::default(), "RAM actions name no key");
    out
}

/// Both paths answer `action` with `pairs` identically, in both formats.
async fn same(w: &World, who: &Caller, action: &str, pairs: &[(&str, &str)]) {
    let p = params(pairs);
    for f in [Format::Json, Format::Xml] {
        let old = by_old(w, who, action, &p, f).await;
        let new = by_codec(w, who, action, &p, f).await;
        let show = |o: &Outcome| match o {
            Ok((s, b)) => format!("{s} {}", String::from_utf8_lossy(b)),
            Err(e) => format!("{e:?}"),
        };
        assert_eq!(show(&new), show(&old), "{action} {pairs:?} {f:?}");
    }
}

#[test]
fn every_ram_codec_keeps_the_older_parameter_table() {
    let mut served = 0;
    for action in Action::ALL
        .iter()
        .filter(|a| a.api_version() == RAM_VERSION)
    {
        let name = action.name();
        let e = endpoint(RAM_VERSION, name).unwrap_or_else(|| panic!("{name} not served"));
        assert_eq!(e.spec, action.spec(), "{name}");
        served += 1;
    }
    assert_eq!(served, 15);
}

#[tokio::test]
async fn reads_answer_as_before() {
    let w = world().await;
    let who = root();
    for pairs in [
        vec![("UserName", "alice")],
        vec![("UserName", "nobody")],
        vec![],
    ] {
        same(&w, &who, "GetUser", &pairs).await;
        same(&w, &who, "ListPoliciesForUser", &pairs).await;
        same(&w, &who, "ListAccessKeys", &pairs).await;
    }
    for pairs in paging() {
        same(&w, &who, "ListUsers", &pairs).await;
        same(&w, &who, "ListPolicies", &pairs).await;
    }
    for t in ["Custom", "System", "Bogus"] {
        same(&w, &who, "ListPolicies", &[("PolicyType", t)]).await;
        same(
            &w,
            &who,
            "ListPolicies",
            &[("PolicyType", t), ("MaxItems", "1")],
        )
        .await;
    }
    for (t, name) in [
        ("Custom", "p1"),
        ("System", "AliyunKMSReadOnlyAccess"),
        ("Custom", "AliyunKMSReadOnlyAccess"),
        ("Bogus", "p1"),
        ("", "p1"),
        ("System", ""),
    ] {
        same(
            &w,
            &who,
            "GetPolicy",
            &[("PolicyType", t), ("PolicyName", name)],
        )
        .await;
    }
}

fn paging() -> Vec<Vec<(&'static str, &'static str)>> {
    vec![
        vec![],
        vec![("MaxItems", "1")],
        vec![("Marker", "1"), ("MaxItems", "1")],
        vec![("Marker", "2"), ("MaxItems", "2")],
        vec![("Marker", "99")],
        vec![("MaxItems", "0")],
        vec![("MaxItems", "1001")],
        vec![("MaxItems", "x")],
        vec![("Marker", "x"), ("MaxItems", "x")],
        vec![("Marker", "-1")],
    ]
}

#[tokio::test]
async fn refused_and_failed_changes_answer_as_before() {
    let w = world().await;
    let who = root();
    let attach = [
        ("PolicyType", "Custom"),
        ("PolicyName", "p1"),
        ("UserName", "alice"),
    ];
    same(&w, &who, "AttachPolicyToUser", &attach).await;
    for action in ["AttachPolicyToUser", "DetachPolicyFromUser"] {
        same(&w, &who, action, &attach[..2]).await;
        same(
            &w,
            &who,
            action,
            &[("PolicyType", "x"), ("PolicyName", "p1")],
        )
        .await;
    }
    let detach = [
        ("PolicyType", "Custom"),
        ("PolicyName", "p1"),
        ("UserName", "bob"),
    ];
    same(&w, &who, "DetachPolicyFromUser", &detach).await;
    same(&w, &who, "DeleteUser", &[("UserName", "alice")]).await;
    same(&w, &who, "DeleteUser", &[]).await;
    same(&w, &who, "DeletePolicy", &[("PolicyName", "p1")]).await;
    same(&w, &who, "DeletePolicy", &[("PolicyName", "nope")]).await;
    same(&w, &who, "CreateUser", &[("UserName", "alice")]).await;
    same(&w, &who, "CreateUser", &[("UserName", "bad name!")]).await;
    same(&w, &who, "CreatePolicy", &[("PolicyName", "p1")]).await;
    let bad_doc = [("PolicyName", "p2"), ("PolicyDocument", "{")];
    same(&w, &who, "CreatePolicy", &bad_doc).await;
    same(&w, &who, "CreateAccessKey", &[]).await;
    same(&w, &who, "CreateAccessKey", &[("UserName", "nobody")]).await;
    let key = [("UserAccessKeyId", "LTAInope"), ("UserName", "alice")];
    same(
        &w,
        &who,
        "UpdateAccessKey",
        &[key[0], ("Status", "Sleeping")],
    )
    .await;
    same(
        &w,
        &who,
        "UpdateAccessKey",
        &[key[0], key[1], ("Status", "Active")],
    )
    .await;
    same(&w, &who, "UpdateAccessKey", &[key[0], ("Status", "Active")]).await;
    same(&w, &who, "UpdateAccessKey", &[("Status", "Active")]).await;
    same(&w, &who, "DeleteAccessKey", &key).await;
    same(&w, &who, "DeleteAccessKey", &key[..1]).await;
    same(&w, &who, "DeleteAccessKey", &key[1..]).await;
}

#[tokio::test]
async fn a_ram_user_is_checked_as_before() {
    let w = world().await;
    let alice = caller("alice");
    same(&w, &alice, "GetUser", &[("UserName", "bob")]).await;
    same(&w, &alice, "ListUsers", &[]).await;
    same(&w, &alice, "ListAccessKeys", &[]).await;
    same(&w, &alice, "ListAccessKeys", &[("UserName", "bob")]).await;
    same(&w, &alice, "CreateUser", &[("UserName", "carol")]).await;
    same(&w, &alice, "CreateUser", &[]).await;
    same(&w, &alice, "CreateAccessKey", &[]).await;
    same(&w, &alice, "DeleteAccessKey", &[("UserAccessKeyId", "x")]).await;
    same(&w, &alice, "UpdateAccessKey", &[]).await;
    same(&w, &alice, "DeletePolicy", &[("PolicyName", "p1")]).await;
    same(
        &w,
        &alice,
        "GetPolicy",
        &[("PolicyType", "Custom"), ("PolicyName", "p1")],
    )
    .await;
    let attach = [
        ("PolicyType", "System"),
        ("PolicyName", "x"),
        ("UserName", "bob"),
    ];
    same(&w, &alice, "AttachPolicyToUser", &attach).await;
    same(&w, &alice, "ListPolicies", &[("MaxItems", "0")]).await;
}

/// What a JSON or XML reply says for `name` (a string member).
fn field(body: &str, name: &str) -> String {
    let (open, close) = match body.starts_with('{') {
        true => (format!("\"{name}\":\""), "\""),
        false => (format!("<{name}>"), "<"),
    };
    let start = body.find(&open).expect(name) + open.len();
    let len = body[start..].find(close).expect(name);
    body[start..start + len].to_owned()
}

/// Runs `action` by the older path with `old` and by the codec with `new` (each on its own
/// records, as a change cannot be made twice) in both formats, and compares the replies
/// once the values named by `varying` are swapped from the old reply's to the new one's.
/// A `#` in a value becomes the format's name, so each format has its own records.
async fn same_change(w: &World, action: &str, old: &[(&str, &str)], new: &[(&str, &str)]) {
    let varying: &[&str] = match action {
        "CreateUser" => &["UserId", "UserName", "DisplayName", "CreateDate"],
        "CreatePolicy" => &["PolicyName", "CreateDate"],
        "CreateAccessKey" => &["AccessKeyId", "AccessKeySecret", "CreateDate"],
        _ => &[],
    };
    for f in [Format::Json, Format::Xml] {
        let tag = format!("{f:?}").to_lowercase();
        let tagged = |pairs: &[(&str, &str)]| {
            let pairs = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.replace('#', &tag)));
            Params::from_pairs(pairs.collect())
        };
        let body = |o: Outcome| String::from_utf8(o.expect(action).1).unwrap();
        let old_body = body(by_old(w, &root(), action, &tagged(old), f).await);
        let new_body = body(by_codec(w, &root(), action, &tagged(new), f).await);
        let swapped = varying.iter().fold(old_body.clone(), |text, name| {
            text.replace(&field(&old_body, name), &field(&new_body, name))
        });
        assert_eq!(new_body, swapped, "{action} {f:?}");
    }
}

#[tokio::test]
async fn changes_answer_as_before() {
    let w = world().await;
    let user = |n| [("UserName", n), ("DisplayName", "D"), ("Comments", "c")];
    same_change(&w, "CreateUser", &user("o-#"), &user("n-#")).await;
    let doc = r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
    let policy = |n| {
        [
            ("PolicyName", n),
            ("PolicyDocument", doc),
            ("Description", "d"),
        ]
    };
    same_change(&w, "CreatePolicy", &policy("o-#"), &policy("n-#")).await;
    let owner = |n| [("UserName", n)];
    same_change(&w, "CreateAccessKey", &owner("o-#"), &owner("n-#")).await;
    same_change(&w, "ListAccessKeys", &owner("o-#"), &owner("o-#")).await;
    let attach = |n| [("PolicyType", "Custom"), ("PolicyName", n), ("UserName", n)];
    for action in ["AttachPolicyToUser", "DetachPolicyFromUser"] {
        same_change(&w, action, &attach("o-#"), &attach("n-#")).await;
    }
    same_change(&w, "DeletePolicy", &policy("o-#")[..1], &policy("n-#")[..1]).await;
    for who in ["o-json", "o-xml", "n-json", "n-xml"] {
        let id = w.svc().list_access_keys(who).await.unwrap()[0]
            .access_key_id
            .clone();
        let key = [("UserAccessKeyId", id.as_str()), ("UserName", who)];
        same(
            &w,
            &root(),
            "UpdateAccessKey",
            &[key[0], key[1], ("Status", "Inactive")],
        )
        .await;
        let p = params(&key);
        let deleted = match who.starts_with('o') {
            true => by_old(&w, &root(), "DeleteAccessKey", &p, Format::Json).await,
            false => by_codec(&w, &root(), "DeleteAccessKey", &p, Format::Json).await,
        };
        assert_eq!(deleted.unwrap().1, br#"{"RequestId":"req"}"#.to_vec());
    }
    same_change(&w, "DeleteUser", &owner("o-#"), &owner("n-#")).await;
}
