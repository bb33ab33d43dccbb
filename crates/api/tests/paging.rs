//! Paged listings through the codec and the engine, inside the process (issue 13, finding 7):
//! numbered ListKeys pages read by keyset agree with the offset view whatever order they are
//! asked in (and after the listing changed under a remembered boundary), RAM's `Marker` is an
//! opaque keyset cursor (an old offset is `InvalidParameter`), and ListTagResources naming no
//! key pages by `NextToken`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod world;

use openkms_api::codec::{self, Exchange, KMS_VERSION, RAM_VERSION};
use openkms_api::rpc::{Format, Params, RpcError};
use openkms_core::Tag;
use openkms_core::model::PolicyType;
use openkms_core::service::NewUser;
use openkms_ops::kms::TAG_PAGE_ROWS;
use openkms_ops::{AuditEvent, Caller, Origin};
use serde_json::Value;
use world::{World, world};

fn root() -> Caller {
    Caller {
        access_key_id: "root-ak".into(),
        user: "root".into(),
    }
}

impl World {
    /// `action` of API `version` through the codec and the engine, as the root identity: the
    /// JSON reply, or the refusal.
    async fn ask(
        &self,
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
            caller: &root(),
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

    /// The key ids of ListKeys page `number` of `size`, with these `Filters`, and `TotalCount`.
    async fn keys_page(&self, number: usize, size: usize, filters: &str) -> (Vec<String>, u64) {
        let (number, size) = (number.to_string(), size.to_string());
        let mut pairs = vec![("PageNumber", number.as_str()), ("PageSize", &size)];
        if !filters.is_empty() {
            pairs.push(("Filters", filters));
        }
        let reply = self.ask(KMS_VERSION, "ListKeys", &pairs).await.unwrap();
        let ids = reply["Keys"]["Key"].as_array().unwrap().iter();
        let ids = ids
            .map(|k| k["KeyId"].as_str().unwrap().to_owned())
            .collect();
        (ids, reply["TotalCount"].as_u64().unwrap())
    }
}

/// The ids of the keys passing `filters`, oldest first, read whole.
async fn every_key(w: &World, filters: &[openkms_core::service::KeyFilter]) -> Vec<String> {
    let keys = w.svc.list_keys(filters).await.unwrap();
    keys.into_iter().map(|k| k.key_id).collect()
}

/// Page `number` of `size` of `all`, as offsets cut it.
fn slice(all: &[String], number: usize, size: usize) -> Vec<String> {
    all.iter()
        .skip((number - 1) * size)
        .take(size)
        .cloned()
        .collect()
}

const ENABLED: &str = r#"[{"Key":"KeyState","Values":["Enabled"]}]"#;

#[tokio::test]
async fn numbered_key_pages_agree_with_offsets_in_any_order() {
    let w = world().await;
    for _ in 0..23 {
        w.key(None, None).await;
    }
    let all = every_key(&w, &[]).await;
    // Out of order first (no boundary remembered: the index skip), then in order (keyset
    // from the remembered boundaries), then again.
    for order in [[5, 3, 1, 4, 2, 6], [1, 2, 3, 4, 5, 6], [4, 5, 6, 1, 2, 3]] {
        for number in order {
            let (ids, total) = w.keys_page(number, 5, "").await;
            assert_eq!(ids, slice(&all, number, 5), "page {number}");
            assert_eq!(total, 23);
        }
    }
    let (past, total) = w.keys_page(usize::MAX / 1000, 100, "").await;
    assert!(past.is_empty() && total == 23);
}

#[tokio::test]
async fn a_remembered_boundary_is_not_used_once_the_listing_changed() {
    let w = world().await;
    for _ in 0..20 {
        w.key(None, None).await;
    }
    for number in 1..=4 {
        w.keys_page(number, 5, ENABLED).await;
    }
    // The first key leaves the filtered listing: every later page moves up by one.
    let first = every_key(&w, &[]).await.remove(0);
    w.svc.disable_key(&first).await.unwrap();
    let filter = openkms_core::service::KeyFilter {
        key: "KeyState".into(),
        values: vec!["Enabled".into()],
    };
    let enabled = every_key(&w, &[filter]).await;
    assert_eq!(enabled.len(), 19);
    for number in [3, 4, 2, 1] {
        let (ids, total) = w.keys_page(number, 5, ENABLED).await;
        assert_eq!(
            ids,
            slice(&enabled, number, 5),
            "page {number} after the change"
        );
        assert_eq!(total, 19);
    }
    let (disabled, total) = w
        .keys_page(1, 10, r#"[{"Key":"KeyState","Values":["Disabled"]}]"#)
        .await;
    assert_eq!((disabled, total), (vec![first], 1));
}

/// Every entry of a RAM listing, walked by `Marker` in pages of `max`, checking the flags.
async fn walk_ram(
    w: &World,
    action: &str,
    list: &str,
    item: &str,
    name: &str,
    max: &str,
) -> Vec<String> {
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut pairs = vec![("MaxItems", max)];
        if let Some(m) = &marker {
            pairs.push(("Marker", m));
        }
        let reply = w.ask(RAM_VERSION, action, &pairs).await.unwrap();
        let page = reply[list][item].as_array().unwrap();
        names.extend(page.iter().map(|e| e[name].as_str().unwrap().to_owned()));
        match reply["IsTruncated"].as_bool().unwrap() {
            true => marker = Some(reply["Marker"].as_str().unwrap().to_owned()),
            false => {
                assert!(reply.get("Marker").is_none());
                return names;
            }
        }
    }
}

#[tokio::test]
async fn ram_markers_are_opaque_keyset_cursors() {
    let w = world().await;
    for (i, name) in ["b", "B", "a.b", "zed", "a-b", "_x", "a0"]
        .iter()
        .enumerate()
    {
        let user = NewUser {
            user_name: (*name).into(),
            ..NewUser::default()
        };
        w.svc.create_user(user).await.unwrap();
        let doc = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:List*","Resource":"*"}]}"#;
        let policy = ["b", "B", "a-b", "Z", "a0", "c", "A"][i];
        w.svc.create_policy(policy, doc, "").await.unwrap();
    }
    let users: Vec<String> = w
        .svc
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.user_name)
        .collect();
    for max in ["1", "3", "100"] {
        assert_eq!(
            walk_ram(&w, "ListUsers", "Users", "User", "UserName", max).await,
            users
        );
    }
    let policies = w.svc.list_policies(None).await.unwrap();
    let policies: Vec<String> = policies.into_iter().map(|p| p.record.policy_name).collect();
    assert!(policies.len() > 7);
    for max in ["1", "2", "4", "100"] {
        let walked = walk_ram(&w, "ListPolicies", "Policies", "Policy", "PolicyName", max).await;
        assert_eq!(walked, policies, "by {max}");
    }
    let custom = w
        .svc
        .list_policies(Some(PolicyType::Custom))
        .await
        .unwrap()
        .len();
    let mut pairs = vec![("PolicyType", "Custom"), ("MaxItems", "2")];
    let first = w.ask(RAM_VERSION, "ListPolicies", &pairs).await.unwrap();
    let marker = first["Marker"].as_str().unwrap().to_owned();
    pairs.push(("Marker", &marker));
    let second = w.ask(RAM_VERSION, "ListPolicies", &pairs).await.unwrap();
    let shown = second["Policies"]["Policy"].as_array().unwrap();
    assert_eq!(
        shown[0]["PolicyName"],
        policies[policies.len() - custom + 2]
    );
    // Offsets (what older builds wrote), junk and another listing's marker are refused.
    let user_marker = {
        let reply = w
            .ask(RAM_VERSION, "ListUsers", &[("MaxItems", "1")])
            .await
            .unwrap();
        reply["Marker"].as_str().unwrap().to_owned()
    };
    for (action, bad) in [
        ("ListUsers", "2"),
        ("ListUsers", "not-a-marker"),
        ("ListPolicies", user_marker.as_str()),
        ("ListPolicies", "0"),
    ] {
        let refused = w.ask(RAM_VERSION, action, &[("Marker", bad)]).await;
        assert!(
            matches!(refused, Err(RpcError::InvalidParameter("Marker"))),
            "{action} {bad}"
        );
    }
}

#[tokio::test]
async fn list_tag_resources_naming_no_key_pages_by_next_token() {
    let w = world().await;
    let mut expected = Vec::new();
    for _ in 0..21 {
        let key = w.key(None, None).await;
        let tags: Vec<Tag> = (0..5)
            .map(|i| Tag {
                key: format!("t{i}"),
                value: format!("{key}-{i}"),
            })
            .collect();
        w.svc.tag_key(&key, &tags).await.unwrap();
        expected.extend(tags.into_iter().map(|t| (key.clone(), t.key, t.value)));
    }
    expected.sort();
    let base = [("RegionId", "cn-hangzhou"), ("ResourceType", "key")];
    let mut rows = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let mut pairs = base.to_vec();
        if !token.is_empty() {
            pairs.push(("NextToken", &token));
        }
        let reply = w
            .ask(KMS_VERSION, "ListTagResources", &pairs)
            .await
            .unwrap();
        let page = reply["TagResources"]["TagResource"].as_array().unwrap();
        assert!(page.len() <= TAG_PAGE_ROWS);
        rows.extend(page.iter().map(|r| {
            let text = |n: &str| r[n].as_str().unwrap().to_owned();
            (text("ResourceId"), text("TagKey"), text("TagValue"))
        }));
        pages += 1;
        token = reply["NextToken"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(pages, expected.len().div_ceil(TAG_PAGE_ROWS));
    assert_eq!(rows, expected, "every row once, by key id then tag key");
    // Filtered by one tag key: only its 21 rows, on one page.
    let mut pairs = base.to_vec();
    pairs.push(("Tag.1.Key", "t3"));
    let reply = w
        .ask(KMS_VERSION, "ListTagResources", &pairs)
        .await
        .unwrap();
    assert_eq!(
        reply["TagResources"]["TagResource"]
            .as_array()
            .unwrap()
            .len(),
        21
    );
    assert_eq!(reply["NextToken"], "");
    let mut pairs = base.to_vec();
    pairs.push(("NextToken", "10"));
    let refused = w.ask(KMS_VERSION, "ListTagResources", &pairs).await;
    assert!(matches!(
        refused,
        Err(RpcError::InvalidParameter("NextToken"))
    ));
}
