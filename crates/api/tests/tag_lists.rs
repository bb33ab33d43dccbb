//! The alias and tag actions through the codec and the engine, inside the process: repeat-list
//! indexes are canonical (`ResourceId.01` is refused, `ResourceId.1` + `ResourceId.2` both
//! act), and a restricted caller is checked on every key it names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod world;

use openkms_api::codec::{self, Exchange, KMS_VERSION};
use openkms_api::rpc::reply::Rendered;
use openkms_api::rpc::{Format, Params, RpcError};
use openkms_core::KeyRef;
use openkms_ops::{AuditEvent, Caller, Origin};
use world::{World, allow, world};

const REQUEST_ID: &str = "req-1";

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
    async fn tags(&self, key_id: &str) -> Vec<(String, String)> {
        let tags = self.svc.list_key_tags(key_id).await.unwrap();
        tags.into_iter().map(|t| (t.key, t.value)).collect()
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
        let params = params(pairs);
        let pending = endpoint.decode(&params, &self.svc);
        let mut event = AuditEvent::default();
        let exchange = Exchange {
            engine: &self.engine,
            params: &params,
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
}

fn code(result: Result<Rendered, RpcError>) -> &'static str {
    result.expect_err("refused").wire().code
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
    let (k1, k2) = (w.key(None, None).await, w.key(None, None).await);
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
    let (mine, theirs) = (w.key(None, None).await, w.key(None, None).await);
    w.svc
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
    // An unreadable list is checked against the keys its values name: this caller may use
    // alias/mine, so it hears that the index is malformed, and nothing is tagged.
    let padded = [("ResourceId.01", "alias/mine"), ("ResourceId.2", &theirs)];
    assert_eq!(
        code(w.tag_resources(&u, &padded).await),
        "Forbidden.NoPermission"
    );
    let padded = [("ResourceId.01", "alias/mine")];
    assert_eq!(code(w.tag_resources(&u, &padded).await), "InvalidParameter");
    assert!(w.tags(&theirs).await.is_empty());
}

#[tokio::test]
async fn listing_every_key_leaves_out_the_keys_the_caller_is_refused() {
    let w = world().await;
    let (mine, prod) = (w.key(None, None).await, w.key(None, None).await);
    for key in [&mine, &prod] {
        let ids = [("ResourceId.1", key.as_str())];
        w.tag_resources(&root(), &ids).await.unwrap();
    }
    let deny =
        format!(r#"{{"Effect":"Deny","Action":"kms:*","Resource":"acs:kms:*:*:key/{prod}"}}"#);
    let statements = [allow("kms:ListTagResources", "*"), deny];
    let u = w.user("lister", &statements.join(",")).await;
    let listed = w
        .call(&u, "ListTagResources", &listing(&[]), Format::Json)
        .await
        .unwrap();
    let body = String::from_utf8(listed.body.to_vec()).unwrap();
    assert!(body.contains(&mine), "{body}");
    assert!(
        !body.contains(&prod),
        "a denied key's tags were listed: {body}"
    );
    let all = w
        .call(&root(), "ListTagResources", &listing(&[]), Format::Json)
        .await
        .unwrap();
    let body = String::from_utf8(all.body.to_vec()).unwrap();
    assert!(body.contains(&mine) && body.contains(&prod), "{body}");
}
