//! Keys: the list (search by key id or alias, state filter, paging), creating a key, and a
//! key's page (metadata, versions, aliases, tags, rotation, key policy) with its actions.

use http::{Method, StatusCode};
use minijinja::{Value, context};
use serde_json::json;

use super::{Page, failed};
use crate::action::Outcome;
use crate::http::Reply;

/// Keys on one page of the list.
const PAGE_SIZE: u32 = 10;
/// The states the filter offers.
const STATES: &[&str] = &["Enabled", "Disabled", "PendingDeletion"];

/// `keys`, `keys/<id>` and `keys/<id>/<action>`.
pub async fn route(page: &Page<'_>) -> Reply {
    let parts: Vec<&str> = page.req.path.split('/').collect();
    let post = page.req.method == Method::POST;
    match (parts.as_slice(), post) {
        (["keys"], false) => list(page, None).await,
        (["keys"], true) => create(page).await,
        (["keys", id], false) => detail(page, id, None).await,
        (["keys", id, action], true) => act(page, id, action).await,
        _ => crate::http::error_page(page.console, StatusCode::NOT_FOUND),
    }
}

/// The list: one page of ListKeys (or the key a search names), each key described.
async fn list(page: &Page<'_>, error: Option<Value>) -> Reply {
    let q = page.req.param("q").trim();
    let state = page.req.param("state");
    let state = STATES.iter().find(|s| **s == state).copied();
    let number: u32 = page
        .req
        .param("page")
        .parse()
        .unwrap_or(1)
        .clamp(1, 100_000);
    let (ids, total, error) = match q.is_empty() {
        true => listed(page, state, number).await.map_or_else(
            |e| (vec![], 0, Some(failed(&e))),
            |(ids, total)| (ids, total, error),
        ),
        false => (vec![q.to_owned()], 1, error),
    };
    let mut keys = Vec::new();
    let mut search_error = None;
    for id in &ids {
        match page.kms("DescribeKey", &[("KeyId", id)]).await {
            Ok(reply) => keys.push(reply["KeyMetadata"].clone()),
            Err(e) => search_error = Some(failed(&e)),
        }
    }
    let pages = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let data = context! {
        keys => keys, q => q, state => state, states => STATES, page => number,
        pages => pages, total => total, error => error.or(search_error),
        prev => (number > 1).then(|| number - 1),
        next => (u64::from(number) < pages).then(|| number + 1),
    };
    page.render("keys.html", "keys", data)
}

/// The key ids of one page of ListKeys, and the total.
async fn listed(
    page: &Page<'_>,
    state: Option<&str>,
    number: u32,
) -> Result<(Vec<String>, u64), crate::action::ApiError> {
    let filters = state.map(|s| json!([{"Key": "KeyState", "Values": [s]}]).to_string());
    let number = number.to_string();
    let size = PAGE_SIZE.to_string();
    let mut params = vec![("PageNumber", number.as_str()), ("PageSize", size.as_str())];
    if let Some(f) = &filters {
        params.push(("Filters", f.as_str()));
    }
    let reply = page.kms("ListKeys", &params).await?;
    let ids = reply["Keys"]["Key"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k["KeyId"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok((ids, reply["TotalCount"].as_u64().unwrap_or(0)))
}

/// CreateKey from the form; then the new key's page.
async fn create(page: &Page<'_>) -> Reply {
    let f = |name| page.req.field(name);
    let rotate = f("rotation") == "on";
    let mut params = vec![
        ("Description", f("description")),
        ("KeySpec", f("spec")),
        ("KeyUsage", "ENCRYPT/DECRYPT"),
        ("ProtectionLevel", f("protection")),
        (
            "EnableAutomaticRotation",
            if rotate { "true" } else { "false" },
        ),
    ];
    if rotate {
        params.push(("RotationInterval", f("interval")));
    }
    match page.kms("CreateKey", &params).await {
        Ok(reply) => match reply["KeyMetadata"]["KeyId"].as_str() {
            Some(id) => Reply::Redirect(format!("keys/{id}?done=created")),
            None => Reply::Redirect("keys".to_owned()),
        },
        Err(e) => list(page, Some(failed(&e))).await,
    }
}

/// A key's page.
async fn detail(page: &Page<'_>, id: &str, error: Option<Value>) -> Reply {
    let key = match page.kms("DescribeKey", &[("KeyId", id)]).await {
        Ok(reply) => reply["KeyMetadata"].clone(),
        Err(e) => {
            let data = context! { keys => Vec::<Value>::new(), states => STATES, page => 1,
            pages => 1, total => 0, error => failed(&e) };
            return page.render_status(StatusCode::OK, "keys.html", "keys", data);
        }
    };
    let part = |o: Outcome, path: &[&str]| {
        o.ok()
            .map(|mut v| {
                for p in path {
                    v = v[*p].take();
                }
                v
            })
            .unwrap_or(serde_json::Value::Null)
    };
    let versions = part(
        page.kms("ListKeyVersions", &[("KeyId", id), ("PageSize", "100")])
            .await,
        &["KeyVersions", "KeyVersion"],
    );
    let aliases = part(
        page.kms("ListAliasesByKeyId", &[("KeyId", id), ("PageSize", "100")])
            .await,
        &["Aliases", "Alias"],
    );
    let tags = part(
        page.kms("ListResourceTags", &[("KeyId", id)]).await,
        &["Tags", "Tag"],
    );
    let policy = part(
        page.kms("GetKeyPolicy", &[("KeyId", id)]).await,
        &["Policy"],
    );
    let policy = pretty(policy.as_str().unwrap_or(""));
    let data = context! {
        key => key, versions => versions, aliases => aliases, tags => tags,
        policy => policy, error => error,
    };
    page.render("key.html", "keys", data)
}

/// A policy document indented for the editor (as it is when it is not JSON).
fn pretty(document: &str) -> String {
    serde_json::from_str::<serde_json::Value>(document)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| document.to_owned())
}

/// One action on key `id`; then its page again.
async fn act(page: &Page<'_>, id: &str, action: &str) -> Reply {
    let f = |name| page.req.field(name);
    let tags;
    let keys;
    let (api, params, done): (&str, Vec<(&str, &str)>, &str) = match action {
        "enable" => ("EnableKey", vec![("KeyId", id)], "enabled"),
        "disable" => ("DisableKey", vec![("KeyId", id)], "disabled"),
        "schedule-deletion" => (
            "ScheduleKeyDeletion",
            vec![("KeyId", id), ("PendingWindowInDays", f("days"))],
            "scheduled",
        ),
        "cancel-deletion" => ("CancelKeyDeletion", vec![("KeyId", id)], "cancelled"),
        "protection" => (
            "SetDeletionProtection",
            vec![
                ("ProtectedResourceArn", f("arn")),
                (
                    "EnableDeletionProtection",
                    if f("enable") == "on" { "true" } else { "false" },
                ),
                ("DeletionProtectionDescription", f("reason")),
            ],
            "updated",
        ),
        "description" => (
            "UpdateKeyDescription",
            vec![("KeyId", id), ("Description", f("description"))],
            "updated",
        ),
        "alias" => (
            "CreateAlias",
            vec![("KeyId", id), ("AliasName", f("alias"))],
            "created",
        ),
        "unalias" => ("DeleteAlias", vec![("AliasName", f("alias"))], "deleted"),
        "tag" => {
            tags = json!([{"TagKey": f("tag_key"), "TagValue": f("tag_value")}]).to_string();
            (
                "TagResource",
                vec![("KeyId", id), ("Tags", tags.as_str())],
                "updated",
            )
        }
        "untag" => {
            keys = json!([f("tag_key")]).to_string();
            (
                "UntagResource",
                vec![("KeyId", id), ("TagKeys", keys.as_str())],
                "deleted",
            )
        }
        "rotation" => {
            let on = if f("enable") == "on" { "true" } else { "false" };
            let mut p = vec![("KeyId", id), ("EnableAutomaticRotation", on)];
            if on == "true" {
                p.push(("RotationInterval", f("interval")));
            }
            ("UpdateRotationPolicy", p, "updated")
        }
        "rotate" => ("CreateKeyVersion", vec![("KeyId", id)], "created"),
        "policy" => (
            "SetKeyPolicy",
            vec![("KeyId", id), ("Policy", f("policy"))],
            "updated",
        ),
        _ => return crate::http::error_page(page.console, StatusCode::NOT_FOUND),
    };
    match page.kms(api, &params).await {
        Ok(_) => Reply::Redirect(format!("keys/{id}?done={done}")),
        Err(e) => detail(page, id, Some(failed(&e))).await,
    }
}
