//! Keys: the list (search by key id or alias, state filter, paging), creating a key (spec,
//! usage, origin), and a key's page (metadata, versions, aliases, tags, rotation, key policy)
//! with its actions.
//!
//! A key pair's page shows the public key (GetPublicKey) of its newest version, or of the
//! version the query's `version` names. An EXTERNAL key's page fetches import parameters
//! (GetParametersForImport, a POST: each call issues a new token) and shows the wrapping
//! public key and the ImportToken in the answer, imports wrapped material
//! (ImportKeyMaterial) and deletes it (DeleteKeyMaterial).

use http::StatusCode;
use minijinja::{Value, context};
use serde_json::json;

use super::{Page, failed, refused};
use crate::action::Outcome;
use crate::http::Reply;

/// Keys on one page of the list.
const PAGE_SIZE: u32 = 10;
/// The states the filter offers.
const STATES: &[&str] = &["Enabled", "Disabled", "PendingDeletion", "PendingImport"];
/// The key specs the API's CreateKey takes: symmetric first, then key pairs.
const SPECS: &[&str] = &[
    "Aliyun_AES_256",
    "Aliyun_SM4",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_P256",
    "EC_P256K",
    "EC_SM2",
];
/// The usages offered (none chosen: the spec's default, SIGN/VERIFY for a key pair).
const USAGES: &[&str] = &["ENCRYPT/DECRYPT", "SIGN/VERIFY"];
/// Where a key's material comes from.
const ORIGINS: &[&str] = &["Aliyun_KMS", "EXTERNAL"];
/// GetParametersForImport's algorithms, each with the one wrapping key spec it takes.
const WRAPPINGS: &[(&str, &str)] = &[
    ("RSAES_OAEP_SHA_256", "RSA_2048"),
    ("RSAES_OAEP_SHA_1", "RSA_2048"),
    ("RSAES_PKCS1_V1_5", "RSA_2048"),
    ("SM2PKE", "EC_SM2"),
];

/// `keys`, `keys/<id>` and `keys/<id>/<action>`.
pub async fn route(page: &Page<'_>) -> Reply {
    let (parts, post) = page.target();
    match (parts.as_slice(), post) {
        (["keys"], false) => list(page, None).await,
        (["keys"], true) => create(page).await,
        (["keys", id], false) => detail(page, id, Shown::default()).await,
        (["keys", id, action], true) => act(page, id, action).await,
        _ => crate::http::error_page(page.console, StatusCode::NOT_FOUND),
    }
}

/// The list: one page of ListKeys (or the key a search names), each key described.
async fn list(page: &Page<'_>, error: Option<Value>) -> Reply {
    let q = page.req.param("q").trim();
    let state = page.req.param("state");
    let state = STATES.iter().find(|s| **s == state).copied();
    let number = page.page_number();
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
        keys => keys, q => q, state => state, states => STATES, specs => SPECS,
        usages => USAGES, origins => ORIGINS, page => number,
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

/// CreateKey from the form (an empty usage is the spec's default); then the new key's page.
async fn create(page: &Page<'_>) -> Reply {
    let f = |name| page.req.field(name);
    let rotate = f("rotation") == "on";
    let mut params = vec![
        ("Description", f("description")),
        ("KeySpec", f("spec")),
        ("KeyUsage", f("usage")),
        ("Origin", f("origin")),
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

/// What a key's page shows besides what it reads: an action's error, or the import
/// parameters GetParametersForImport just issued.
#[derive(Default)]
struct Shown {
    error: Option<Value>,
    import: Option<serde_json::Value>,
}

/// A key's page.
async fn detail(page: &Page<'_>, id: &str, shown: Shown) -> Reply {
    let key = match page.kms("DescribeKey", &[("KeyId", id)]).await {
        Ok(reply) => reply["KeyMetadata"].clone(),
        Err(e) => {
            let data = context! { keys => Vec::<Value>::new(), states => STATES, specs => SPECS,
            usages => USAGES, origins => ORIGINS, page => 1, pages => 1, total => 0,
            error => failed(&e) };
            return page.render_status(StatusCode::OK, "keys.html", "keys", data);
        }
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
    let pair = is_pair(key["KeySpec"].as_str().unwrap_or(""));
    let (public_key, public_error) = match pair {
        true => public_key(page, id, &versions).await,
        false => (None, None),
    };
    let wrappings: Vec<Value> = WRAPPINGS
        .iter()
        .map(|(algorithm, spec)| context! { algorithm => algorithm, spec => spec })
        .collect();
    let data = context! {
        key => key, versions => versions, aliases => aliases, tags => tags,
        policy => policy, error => shown.error, pair => pair, public_key => public_key,
        public_key_error => public_error, import => shown.import, wrappings => wrappings,
    };
    page.render("key.html", "keys", data)
}

/// The member at `path` of an action's reply; null when the action failed (a page part the
/// caller may not read stays empty).
fn part(o: Outcome, path: &[&str]) -> serde_json::Value {
    o.ok()
        .map(|mut v| {
            for p in path {
                v = v[*p].take();
            }
            v
        })
        .unwrap_or(serde_json::Value::Null)
}

/// Whether `spec` is a key pair's (RSA or EC): it has a public key and no primary version.
fn is_pair(spec: &str) -> bool {
    spec.starts_with("RSA_") || spec.starts_with("EC_")
}

/// GetPublicKey of the version the query names (one of `versions`), else of the newest (the
/// last: ListKeyVersions lists oldest first). The reply, or the error to show in its card (a
/// disabled key's public key is refused, and that is no failed action).
async fn public_key(
    page: &Page<'_>,
    id: &str,
    versions: &serde_json::Value,
) -> (Option<serde_json::Value>, Option<Value>) {
    let Some(version) = chosen_version(versions, page.req.param("version")) else {
        return (None, None);
    };
    match page
        .kms("GetPublicKey", &[("KeyId", id), ("KeyVersionId", &version)])
        .await
    {
        Ok(reply) => (Some(reply), None),
        Err(e) => (None, Some(failed(&e))),
    }
}

/// The version id `wanted` when `versions` lists it, else the last listed one.
fn chosen_version(versions: &serde_json::Value, wanted: &str) -> Option<String> {
    let ids: Vec<&str> = versions
        .as_array()?
        .iter()
        .filter_map(|v| v["KeyVersionId"].as_str())
        .collect();
    ids.iter()
        .find(|v| **v == wanted)
        .or(ids.last())
        .map(|v| (*v).to_owned())
}

/// A policy document indented for the editor (as it is when it is not JSON).
fn pretty(document: &str) -> String {
    serde_json::from_str::<serde_json::Value>(document)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| document.to_owned())
}

/// One action on key `id`; then its page again. DeleteKeyMaterial runs only when the form's
/// `confirm` is the key's id (checked here, not only by the page's script).
async fn act(page: &Page<'_>, id: &str, action: &str) -> Reply {
    let f = |name| page.req.field(name);
    if action == "delete-material" && f("confirm").trim() != id {
        let why = "To delete the key material, type the key's id in the confirmation field. \
                   Nothing was deleted.";
        let shown = Shown {
            error: Some(refused("ConfirmationRequired", why)),
            ..Shown::default()
        };
        return detail(page, id, shown).await;
    }
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
        "import-parameters" => return import_parameters(page, id).await,
        "import" => (
            "ImportKeyMaterial",
            vec![
                ("KeyId", id),
                ("EncryptedKeyMaterial", f("material").trim()),
                ("ImportToken", f("token").trim()),
                ("KeyMaterialExpireUnix", f("expire").trim()),
            ],
            "imported",
        ),
        "delete-material" => ("DeleteKeyMaterial", vec![("KeyId", id)], "material-deleted"),
        _ => return crate::http::error_page(page.console, StatusCode::NOT_FOUND),
    };
    match page.kms(api, &params).await {
        Ok(_) => Reply::Redirect(format!("keys/{id}?done={done}")),
        Err(e) => detail(page, id, shown_error(&e)).await,
    }
}

/// GetParametersForImport with the chosen wrapping (`wrapping`: one of [`WRAPPINGS`]'s
/// algorithms, which names its key spec); the key's page shows them in this answer only.
async fn import_parameters(page: &Page<'_>, id: &str) -> Reply {
    let algorithm = page.req.field("wrapping");
    let spec = WRAPPINGS
        .iter()
        .find(|(a, _)| *a == algorithm)
        .map_or("", |(_, spec)| *spec);
    let params = [
        ("KeyId", id),
        ("WrappingAlgorithm", algorithm),
        ("WrappingKeySpec", spec),
    ];
    match page.kms("GetParametersForImport", &params).await {
        Ok(mut reply) => {
            reply["WrappingAlgorithm"] = algorithm.into();
            reply["WrappingKeySpec"] = spec.into();
            let shown = Shown {
                import: Some(reply),
                ..Shown::default()
            };
            detail(page, id, shown).await
        }
        Err(e) => detail(page, id, shown_error(&e)).await,
    }
}

/// An action's error for the key's page.
fn shown_error(e: &crate::action::ApiError) -> Shown {
    Shown {
        error: Some(failed(e)),
        ..Shown::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pairs_shown_version_is_the_named_one_else_the_newest() {
        let versions = json!([{"KeyVersionId": "old"}, {"KeyVersionId": "new"}]);
        assert_eq!(chosen_version(&versions, "old").as_deref(), Some("old"));
        assert_eq!(chosen_version(&versions, "").as_deref(), Some("new"));
        assert_eq!(chosen_version(&versions, "other").as_deref(), Some("new"));
        assert_eq!(chosen_version(&json!([]), ""), None);
        assert_eq!(chosen_version(&serde_json::Value::Null, ""), None);
    }

    #[test]
    fn key_pairs_are_told_by_their_spec() {
        assert!(is_pair("RSA_2048") && is_pair("EC_SM2") && is_pair("EC_P256K"));
        assert!(!is_pair("Aliyun_AES_256") && !is_pair("Aliyun_SM4"));
    }
}
