//! ListTagResources' `NextToken` and RAM's `Marker` reveal nothing and cannot be made by a
//! client (issue 13, security review of the paging work), inside the process through the codec
//! and the engine: a caller refused most keys pages through exactly the rows it may see, and
//! no reply (rows, token, the token's decoded bytes) names a refused key or its tags; a token
//! crafted in the unsealed form earlier builds wrote, or a real token altered, is
//! `InvalidParameter`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod world;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openkms_api::codec::{self, Exchange, KMS_VERSION, RAM_VERSION};
use openkms_api::rpc::{Format, Params, RpcError};
use openkms_core::Tag;
use openkms_ops::kms::{TAG_PAGE_ROWS, TAG_SCAN_ROWS};
use openkms_ops::{AuditEvent, Caller, Origin};
use serde_json::Value;
use world::{ACCOUNT, World, allow, world};

/// Keys in the world, and tags on each (the most a key may hold).
const KEYS: usize = 36;
const TAGS: usize = 20;

impl World {
    /// `action` of `version` through the codec and the engine as `caller`: the JSON reply.
    async fn ask_as(
        &self,
        caller: &Caller,
        version: &str,
        action: &str,
        pairs: &[(&str, &str)],
    ) -> Result<Value, RpcError> {
        let endpoint = codec::endpoint(version, action).expect("served by the codec");
        let pairs = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into()));
        let params = Params::from_pairs(pairs.collect());
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
            format: Format::Json,
            request_id: "req-1",
            event: &mut event,
        };
        let rendered = pending.run(exchange).await?;
        Ok(serde_json::from_slice(&rendered.body).unwrap())
    }
}

/// `KEYS` keys with `TAGS` tags each, tag keys `secret-tag-<n>`; their ids, sorted.
async fn tagged_keys(w: &World) -> Vec<String> {
    let mut keys = Vec::new();
    for _ in 0..KEYS {
        let key = w.key(None, None).await;
        let tags: Vec<Tag> = (0..TAGS)
            .map(|i| Tag {
                key: format!("secret-tag-{i}"),
                value: format!("v{i}"),
            })
            .collect();
        w.svc.tag_key(&key, &tags).await.unwrap();
        keys.push(key);
    }
    keys.sort();
    keys
}

/// A user allowed ListTagResources on everything and denied every KMS action on `denied`.
async fn refused_user(w: &World, name: &str, denied: &[String]) -> Caller {
    let arns: Vec<String> = denied
        .iter()
        .map(|k| format!(r#""acs:kms:cn-hangzhou:{ACCOUNT}:key/{k}""#))
        .collect();
    let deny = format!(
        r#"{{"Effect":"Deny","Action":"kms:*","Resource":[{}]}}"#,
        arns.join(",")
    );
    let statements = format!("{},{deny}", allow("kms:ListTagResources", "*"));
    w.user(name, &statements).await
}

/// Every row `caller` is shown by ListTagResources naming no key, page by page, checking
/// that no reply names a `denied` key, in its rows or in its token (decoded as far as it
/// decodes); the rows and the number of pages.
async fn walk(w: &World, caller: &Caller, denied: &[String]) -> (Vec<(String, String)>, usize) {
    let base = [("RegionId", "cn-hangzhou"), ("ResourceType", "key")];
    let (mut rows, mut pages, mut token) = (Vec::new(), 0, String::new());
    loop {
        let mut pairs = base.to_vec();
        if !token.is_empty() {
            pairs.push(("NextToken", &token));
        }
        let reply = w
            .ask_as(caller, KMS_VERSION, "ListTagResources", &pairs)
            .await
            .unwrap();
        token = reply["NextToken"].as_str().unwrap().to_owned();
        let decoded = URL_SAFE_NO_PAD.decode(&token).unwrap_or_default();
        let shown = format!("{reply} {}", String::from_utf8_lossy(&decoded));
        for key in denied {
            assert!(!shown.contains(key.as_str()), "page {pages} names {key}");
            assert!(!decoded.windows(key.len()).any(|w| w == key.as_bytes()));
        }
        assert!(!String::from_utf8_lossy(&decoded).contains("secret-tag"));
        let page = reply["TagResources"]["TagResource"].as_array().unwrap();
        assert!(page.len() <= TAG_PAGE_ROWS);
        rows.extend(page.iter().map(|r| {
            let text = |n: &str| r[n].as_str().unwrap().to_owned();
            (text("ResourceId"), text("TagKey"))
        }));
        pages += 1;
        if token.is_empty() {
            return (rows, pages);
        }
    }
}

/// The rows of `keys`, in listing order.
fn rows_of(keys: &[String]) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = keys
        .iter()
        .flat_map(|k| (0..TAGS).map(move |i| (k.clone(), format!("secret-tag-{i}"))))
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn next_tokens_name_no_refused_key_and_every_visible_row_comes_once() {
    let w = world().await;
    let keys = tagged_keys(&w).await;
    // One key visible, somewhere in the middle of the listing.
    let visible = vec![keys[KEYS / 2].clone()];
    let denied: Vec<String> = keys.iter().filter(|k| **k != visible[0]).cloned().collect();
    let one = refused_user(&w, "one", &denied).await;
    let (rows, pages) = walk(&w, &one, &denied).await;
    assert_eq!(rows, rows_of(&visible), "every visible row once");
    let scanned = KEYS * TAGS;
    assert!(
        scanned > TAG_SCAN_ROWS && pages >= 2,
        "the budget cut a page"
    );
    // Six keys visible, more rows than a page holds.
    let visible: Vec<String> = keys.iter().step_by(KEYS / 6).cloned().collect();
    let denied: Vec<String> = keys
        .iter()
        .filter(|k| !visible.contains(k))
        .cloned()
        .collect();
    let some = refused_user(&w, "some", &denied).await;
    let (rows, _) = walk(&w, &some, &denied).await;
    assert_eq!(rows, rows_of(&visible), "every visible row once");
}

#[tokio::test]
async fn crafted_and_altered_tokens_are_invalid_parameter() {
    let w = world().await;
    let keys = tagged_keys(&w).await;
    let denied = keys[1..].to_vec();
    let caller = refused_user(&w, "one", &denied).await;
    let base = [("RegionId", "cn-hangzhou"), ("ResourceType", "key")];
    let first = w
        .ask_as(&caller, KMS_VERSION, "ListTagResources", &base)
        .await
        .unwrap();
    let token = first["NextToken"].as_str().unwrap().to_owned();
    assert!(!token.is_empty());
    let mut altered = URL_SAFE_NO_PAD.decode(&token).unwrap();
    altered[20] ^= 1;
    let altered = URL_SAFE_NO_PAD.encode(altered);
    // What earlier builds wrote, naming a refused key: accepted then, refused now.
    let crafted = URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&["tags", keys[3].as_str(), "secret-tag-17"]).unwrap());
    for bad in [&altered, &crafted, &token[..token.len() - 2].to_owned()] {
        let mut pairs = base.to_vec();
        pairs.push(("NextToken", bad));
        let refused = w
            .ask_as(&caller, KMS_VERSION, "ListTagResources", &pairs)
            .await;
        assert!(
            matches!(refused, Err(RpcError::InvalidParameter("NextToken"))),
            "{bad}: {refused:?}"
        );
    }
    // A RAM Marker is sealed the same way.
    w.user("two", "").await;
    let root = Caller {
        access_key_id: "root-ak".into(),
        user: "root".into(),
    };
    let crafted = URL_SAFE_NO_PAD.encode(br#"["user","one"]"#);
    let reply = w
        .ask_as(&root, RAM_VERSION, "ListUsers", &[("MaxItems", "1")])
        .await
        .unwrap();
    let marker = reply["Marker"].as_str().unwrap();
    let decoded = URL_SAFE_NO_PAD.decode(marker).unwrap();
    assert!(!String::from_utf8_lossy(&decoded).contains("one"));
    let refused = w
        .ask_as(&root, RAM_VERSION, "ListUsers", &[("Marker", &crafted)])
        .await;
    assert!(matches!(refused, Err(RpcError::InvalidParameter("Marker"))));
}
