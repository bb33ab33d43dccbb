//! RAM: users (their AccessKeys — a new secret shown once —, login profile and policies) and
//! custom policies with their attachments.

use http::StatusCode;
use minijinja::{Value, context};

use super::{Page, failed};
use crate::http::Reply;

/// `users`, `users/<name>`, `users/<name>/<action>`, `policies`, `policies/<action>`.
pub async fn route(page: &Page<'_>) -> Reply {
    let (parts, post) = page.target();
    match (parts.as_slice(), post) {
        (["users"], false) => users(page, None).await,
        (["users"], true) => create_user(page).await,
        (["users", name], false) => user(page, name, None, None).await,
        (["users", name, action], true) => user_action(page, name, action).await,
        (["policies"], false) => policies(page, None).await,
        (["policies", action], true) => policy_action(page, action).await,
        _ => crate::http::error_page(page.console, StatusCode::NOT_FOUND),
    }
}

async fn users(page: &Page<'_>, error: Option<Value>) -> Reply {
    let marker = page.req.param("marker");
    let mut params = vec![("MaxItems", "50")];
    if !marker.is_empty() {
        params.push(("Marker", marker));
    }
    let data = match page.ram("ListUsers", &params).await {
        Ok(r) => context! { users => r["Users"]["User"], next => r["Marker"], error => error },
        Err(e) => context! { users => Vec::<Value>::new(), error => failed(&e) },
    };
    page.render("users.html", "users", data)
}

async fn create_user(page: &Page<'_>) -> Reply {
    let f = |n| page.req.field(n);
    let params = [
        ("UserName", f("user_name")),
        ("DisplayName", f("display_name")),
        ("Comments", f("comments")),
    ];
    match page.ram("CreateUser", &params).await {
        Ok(_) => Reply::Redirect(format!("users/{}?done=created", f("user_name"))),
        Err(e) => users(page, Some(failed(&e))).await,
    }
}

/// A user's page; `secret` is a new AccessKey's, shown this once.
async fn user(page: &Page<'_>, name: &str, error: Option<Value>, secret: Option<Value>) -> Reply {
    let who = [("UserName", name)];
    let found = match page.ram("GetUser", &who).await {
        Ok(r) => r["User"].clone(),
        Err(e) => return users(page, Some(failed(&e))).await,
    };
    let keys = page.ram("ListAccessKeys", &who).await.ok();
    let login = page.ram("GetLoginProfile", &who).await.ok();
    let attached = page.ram("ListPoliciesForUser", &who).await.ok();
    let data = context! {
        u => found,
        keys => keys.map(|r| r["AccessKeys"]["AccessKey"].clone()),
        login => login.map(|r| r["LoginProfile"].clone()),
        attached => attached.map(|r| r["Policies"]["Policy"].clone()),
        error => error, secret => secret,
    };
    page.render("user.html", "users", data)
}

async fn user_action(page: &Page<'_>, name: &str, action: &str) -> Reply {
    let f = |n| page.req.field(n);
    let flag = |n| if f(n) == "on" { "true" } else { "false" };
    let (api, params): (&str, Vec<(&str, &str)>) = match action {
        "access-key" => {
            return match page.ram("CreateAccessKey", &[("UserName", name)]).await {
                Ok(r) => {
                    user(
                        page,
                        name,
                        None,
                        Some(Value::from_serialize(&r["AccessKey"])),
                    )
                    .await
                }
                Err(e) => user(page, name, Some(failed(&e)), None).await,
            };
        }
        "access-key-status" => (
            "UpdateAccessKey",
            vec![
                ("UserName", name),
                ("UserAccessKeyId", f("id")),
                ("Status", f("status")),
            ],
        ),
        "access-key-delete" => (
            "DeleteAccessKey",
            vec![("UserName", name), ("UserAccessKeyId", f("id"))],
        ),
        "login" if f("exists") == "yes" => (
            "UpdateLoginProfile",
            vec![
                ("UserName", name),
                ("Password", f("password")),
                ("PasswordResetRequired", flag("reset")),
            ],
        ),
        "login" => (
            "CreateLoginProfile",
            vec![
                ("UserName", name),
                ("Password", f("password")),
                ("PasswordResetRequired", flag("reset")),
            ],
        ),
        "login-delete" => ("DeleteLoginProfile", vec![("UserName", name)]),
        "attach" => (
            "AttachPolicyToUser",
            vec![
                ("UserName", name),
                ("PolicyType", f("policy_type")),
                ("PolicyName", f("policy_name")),
            ],
        ),
        "detach" => (
            "DetachPolicyFromUser",
            vec![
                ("UserName", name),
                ("PolicyType", f("policy_type")),
                ("PolicyName", f("policy_name")),
            ],
        ),
        "delete" => {
            return match page.ram("DeleteUser", &[("UserName", name)]).await {
                Ok(_) => Reply::Redirect("users?done=deleted".to_owned()),
                Err(e) => user(page, name, Some(failed(&e)), None).await,
            };
        }
        _ => return crate::http::error_page(page.console, StatusCode::NOT_FOUND),
    };
    match page.ram(api, &params).await {
        Ok(_) => Reply::Redirect(format!("users/{name}?done=updated")),
        Err(e) => user(page, name, Some(failed(&e)), None).await,
    }
}

async fn policies(page: &Page<'_>, error: Option<Value>) -> Reply {
    let data = match page.ram("ListPolicies", &[("MaxItems", "200")]).await {
        Ok(r) => context! { policies => r["Policies"]["Policy"], error => error },
        Err(e) => context! { policies => Vec::<Value>::new(), error => failed(&e) },
    };
    page.render("policies.html", "policies", data)
}

async fn policy_action(page: &Page<'_>, action: &str) -> Reply {
    let f = |n| page.req.field(n);
    let outcome = match action {
        "create" => {
            let params = [
                ("PolicyName", f("policy_name")),
                ("PolicyDocument", f("document")),
                ("Description", f("description")),
            ];
            page.ram("CreatePolicy", &params).await
        }
        "delete" => {
            page.ram("DeletePolicy", &[("PolicyName", f("policy_name"))])
                .await
        }
        _ => return crate::http::error_page(page.console, StatusCode::NOT_FOUND),
    };
    match outcome {
        Ok(_) => Reply::Redirect(format!("policies?done={action}d")),
        Err(e) => policies(page, Some(failed(&e))).await,
    }
}
