//! Secrets Manager: the list (ListSecrets, paged, with a search by exact name), creating a
//! secret, and a secret's page (DescribeSecret, ListSecretVersionIds) with its actions: reveal
//! a version's value, store a new value, move a stage, delete (with a recovery window, or at
//! once) and restore.
//!
//! A secret's name may hold `/`, `+` and `=`, so it travels in the query string
//! (`secrets/secret?name=…`) and in a hidden form field, never as a path segment. Its value
//! is shown only in the answer to an explicit POST (`secrets/secret/reveal`, CSRF-checked,
//! `GetSecretValue` audited like every action), never on a GET page; like every console page
//! that answer is `Cache-Control: no-store`. A part of the page the user may not read
//! (DescribeSecret, ListSecretVersionIds) shows its refusal in its own card, so a revealed
//! value is shown to a user allowed only GetSecretValue, and an action's own error is the
//! page's error. Deleting at once needs the secret's name typed in `confirm`. A value typed in a text area reaches the server
//! with the browser's CRLF line breaks; they are turned back into the text area's LFs, so a
//! PEM pasted in is stored as written.

use http::StatusCode;
use minijinja::{Value, context};
use serde_json::json;

use super::{Page, failed, refused};
use crate::action::{ApiError, Secret};
use crate::http::Reply;

/// Secrets on one page of the list.
const PAGE_SIZE: u32 = 10;
/// The data types a value may have.
const DATA_TYPES: &[&str] = &["text", "binary"];

/// `secrets`, `secrets/secret?name=…` and `secrets/secret/<action>`.
pub async fn route(page: &Page<'_>) -> Reply {
    let (parts, post) = page.target();
    match (parts.as_slice(), post) {
        (["secrets"], false) => list(page, None).await,
        (["secrets"], true) => create(page).await,
        (["secrets", "secret"], false) => {
            let name = page.req.param("name").to_owned();
            detail(page, &name, Shown::default()).await
        }
        (["secrets", "secret", action], true) => act(page, action).await,
        _ => crate::http::error_page(page.console, StatusCode::NOT_FOUND),
    }
}

/// What a secret's page shows besides its metadata: an action's error, or a revealed value.
#[derive(Default)]
struct Shown {
    error: Option<Value>,
    revealed: Option<Secret>,
}

impl Shown {
    /// An action's (or the console's own) refusal.
    fn error(error: Value) -> Self {
        Self {
            error: Some(error),
            ..Self::default()
        }
    }

    /// Whether an action left something to show.
    fn is_empty(&self) -> bool {
        self.error.is_none() && self.revealed.is_none()
    }
}

/// The list: one page of ListSecrets, or the secret a search names exactly.
async fn list(page: &Page<'_>, error: Option<Value>) -> Reply {
    let q = page.req.param("q").trim();
    let number = page.page_number();
    let filters =
        (!q.is_empty()).then(|| json!([{"Key": "SecretName", "Values": [q]}]).to_string());
    let number_text = number.to_string();
    let size = PAGE_SIZE.to_string();
    let mut params = vec![
        ("PageNumber", number_text.as_str()),
        ("PageSize", size.as_str()),
    ];
    if let Some(f) = &filters {
        params.push(("Filters", f.as_str()));
    }
    let (secrets, total, error) = match page.kms("ListSecrets", &params).await {
        Ok(mut reply) => (
            reply["SecretList"]["Secret"].take(),
            reply["TotalCount"].as_u64().unwrap_or(0),
            error,
        ),
        Err(e) => (serde_json::Value::Null, 0, Some(failed(&e))),
    };
    let pages = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let data = context! {
        secrets => secrets, q => q, page => number, pages => pages, total => total,
        error => error, data_types => DATA_TYPES,
        prev => (number > 1).then(|| number - 1),
        next => (u64::from(number) < pages).then(|| number + 1),
    };
    page.render("secrets.html", "secrets", data)
}

/// CreateSecret from the form; then the new secret's page.
async fn create(page: &Page<'_>) -> Reply {
    let f = |name| page.req.field(name);
    let name = f("name").trim();
    let value = typed_value(f("value"));
    let mut params = value_params(page, name, &value);
    params.extend([
        ("EncryptionKeyId", f("key").trim()),
        ("Description", f("description")),
    ]);
    match page.kms("CreateSecret", &params).await {
        Ok(_) => Reply::Redirect(secret_path(name, "created")),
        Err(e) => list(page, Some(failed(&e))).await,
    }
}

/// A secret's page: its metadata and versions, and what an action left to show. A part the
/// user may not read (DescribeSecret, ListSecretVersionIds) shows its refusal in its own card,
/// so an action's outcome (a revealed value, the action's own error) is always what the page
/// says; only a plain view of a secret that cannot be described goes back to the list.
async fn detail(page: &Page<'_>, name: &str, shown: Shown) -> Reply {
    let (secret, secret_error) = match page.kms("DescribeSecret", &[("SecretName", name)]).await {
        Ok(reply) => (reply, None),
        Err(e) if shown.is_empty() => return list(page, Some(failed(&e))).await,
        Err(e) => (serde_json::Value::Null, Some(failed(&e))),
    };
    let versions = page
        .kms(
            "ListSecretVersionIds",
            &[
                ("SecretName", name),
                ("IncludeDeprecated", "true"),
                ("PageSize", "100"),
            ],
        )
        .await
        .map(|mut reply| reply["VersionIds"]["VersionId"].take());
    let (versions, versions_error) = match versions {
        Ok(v) => (v, None),
        Err(e) => (serde_json::Value::Null, Some(failed(&e))),
    };
    let name = secret["SecretName"].as_str().unwrap_or(name);
    let data = context! {
        name => name, secret => secret, secret_error => secret_error, versions => versions,
        versions_error => versions_error, revealed => shown.revealed.as_deref(),
        error => shown.error,
        data_types => DATA_TYPES,
    };
    page.render("secret.html", "secrets", data)
}

/// One action on the secret named by the form's `name`.
async fn act(page: &Page<'_>, action: &str) -> Reply {
    let f = |name| page.req.field(name);
    let name = f("name").trim();
    let outcome = match action {
        "reveal" => return reveal(page, name).await,
        "put" => {
            let value = typed_value(f("value"));
            let params = value_params(page, name, &value);
            page.kms("PutSecretValue", &params).await.map(|_| "updated")
        }
        "stage" => {
            let params = [
                ("SecretName", name),
                ("VersionStage", f("stage").trim()),
                ("MoveToVersion", f("move_to").trim()),
                ("RemoveFromVersion", f("remove_from").trim()),
            ];
            page.kms("UpdateSecretVersionStage", &params)
                .await
                .map(|_| "updated")
        }
        "delete" => return delete(page, name).await,
        "restore" => page
            .kms("RestoreSecret", &[("SecretName", name)])
            .await
            .map(|_| "restored"),
        _ => return crate::http::error_page(page.console, StatusCode::NOT_FOUND),
    };
    after(page, name, outcome).await
}

/// GetSecretValue of the chosen version (the `ACSCurrent` one when none is named), shown on
/// the secret's page in the answer to this POST only.
async fn reveal(page: &Page<'_>, name: &str) -> Reply {
    let version = page.req.field("version").trim();
    let mut params = vec![("SecretName", name)];
    if !version.is_empty() {
        params.push(("VersionId", version));
    }
    match page.kms("GetSecretValue", &params).await {
        Ok(value) => {
            let shown = Shown {
                revealed: Some(crate::action::secret(value)),
                ..Shown::default()
            };
            detail(page, name, shown).await
        }
        Err(e) => after(page, name, Err(e)).await,
    }
}

/// DeleteSecret: after a recovery window (7-30 days), or at once when `force` is ticked and
/// `confirm` is the secret's name, checked here, not only by the page's script (then the
/// list, since the secret is gone).
async fn delete(page: &Page<'_>, name: &str) -> Reply {
    let force = page.req.field("force") == "on";
    if force && page.req.field("confirm").trim() != name {
        let why = "To delete a secret at once, type its name in the confirmation field. \
                   Nothing was deleted.";
        return detail(
            page,
            name,
            Shown::error(refused("ConfirmationRequired", why)),
        )
        .await;
    }
    let params = match force {
        true => vec![("SecretName", name), ("ForceDeleteWithoutRecovery", "true")],
        false => vec![
            ("SecretName", name),
            ("RecoveryWindowInDays", page.req.field("days").trim()),
        ],
    };
    match page.kms("DeleteSecret", &params).await {
        Ok(_) if force => Reply::Redirect("secrets?done=deleted".to_owned()),
        outcome => after(page, name, outcome.map(|_| "secret-scheduled")).await,
    }
}

/// The secret's page again: a redirect with the notice when the action ran, else the page
/// with its error.
async fn after(page: &Page<'_>, name: &str, outcome: Result<&str, ApiError>) -> Reply {
    match outcome {
        Ok(done) => Reply::Redirect(secret_path(name, done)),
        Err(e) => detail(page, name, Shown::error(failed(&e))).await,
    }
}

/// The console path of secret `name`'s page with the notice `done`.
fn secret_path(name: &str, done: &str) -> String {
    let name: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("secrets/secret?name={name}&done={done}")
}

/// The parameters of a new value, CreateSecret's and PutSecretValue's alike: the secret's
/// `name`, the form's version id and value type, and `value`.
fn value_params<'a>(
    page: &'a Page<'_>,
    name: &'a str,
    value: &'a str,
) -> Vec<(&'static str, &'a str)> {
    let f = |field| page.req.field(field);
    vec![
        ("SecretName", name),
        ("VersionId", f("version").trim()),
        ("SecretData", value),
        ("SecretDataType", f("data_type")),
    ]
}

/// A value from a text area: the browser's CRLF line breaks back to the text's LFs.
fn typed_value(value: &str) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(value.replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_travels_encoded() {
        assert_eq!(
            secret_path("db/prod+a=b c", "created"),
            "secrets/secret?name=db%2Fprod%2Ba%3Db+c&done=created"
        );
    }

    #[test]
    fn text_area_line_breaks_are_the_texts() {
        assert_eq!(typed_value("a\r\nb\r\n").as_str(), "a\nb\n");
        assert_eq!(typed_value("a\nb").as_str(), "a\nb");
    }
}
